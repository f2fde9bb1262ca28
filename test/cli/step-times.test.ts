// Where a clone's time went (issue 12, item 7): the built farmctl prints each step's start offset
// and duration at the end of a clone, --json has them, and `farmctl ops ID` shows them too.
import { describe, expect, it } from "vitest";
import type { CloneResult } from "../../src/api/clone.js";
import type { StepRecord } from "../../src/api/operations.js";
import { formatStepTimes, stepTimes } from "../../src/api/step-times.js";
import { cloneSteps } from "../../src/ops/clone/steps.js";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
const STEPS = cloneSteps().map((s) => s.name);

describe("step times", () => {
  it("are offsets from the first step's start and durations, from the journal", () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 8, 0, s)).toISOString();
    const times = stepTimes([
      { name: "preflight", startedAt: at(0), finishedAt: at(1) },
      { name: "copy", startedAt: at(1), finishedAt: at(31) },
      { name: "dns", startedAt: at(1), finishedAt: at(4) },
      { name: "start", startedAt: at(31), finishedAt: null },
    ]);
    expect(times).toEqual([
      { name: "preflight", startMs: 0, ms: 1000 },
      { name: "copy", startMs: 1000, ms: 30000 },
      { name: "dns", startMs: 1000, ms: 3000 },
      { name: "start", startMs: 31000, ms: null },
    ]);
    expect(formatStepTimes(times, 31)).toBe(
      "steps (start, duration; 31.0s in all):\n" +
        `  preflight      +   0.0s     1.0s  |#${" ".repeat(30)}|\n` +
        `  copy           +   1.0s    30.0s  | ${"#".repeat(30)}|\n` +
        `  dns            +   1.0s     3.0s  | ###${" ".repeat(27)}|\n` +
        `  start          +  31.0s (not ended)  |${" ".repeat(30)}#|\n`,
    );
  });
});

describe.skipIf(process.getuid?.() !== 0)("farmctl clone's step times", () => {
  it("--json has every step's start and duration, as journaled; the host entries start with the disk", async () => {
    const r = await sim.farmctl("clone", "gallifrey", "gallifrey-dev", "--json");
    expect(r.exitCode).toBe(0);
    const result = (JSON.parse(r.stdout) as { result: CloneResult }).result;
    const steps = result.steps!;
    expect(steps.map((s) => s.name)).toEqual(STEPS);
    const ops = await sim.farmctl("ops", result.opId, "--json");
    const journaled = (JSON.parse(ops.stdout) as { steps: StepRecord[] }).steps;
    expect(steps).toEqual(stepTimes(journaled));
    const of = (name: string) => steps.find((s) => s.name === name)!;
    for (const s of steps) expect(s.ms).toBeGreaterThanOrEqual(0);
    // The DNS entry and the new disk start in the same pass as the snapshot, before it ends.
    const snapshotEnd = of("snapshot").startMs + of("snapshot").ms!;
    expect(of("dns").startMs).toBeLessThanOrEqual(snapshotEnd);
    expect(of("create-lv").startMs).toBeLessThanOrEqual(snapshotEnd);
    // nginx resolves the VM's name: the site waits for the DNS step.
    expect(of("proxy").startMs).toBeGreaterThanOrEqual(of("dns").startMs + of("dns").ms!);
    // Ganeti adopts the empty disk once it and the name exist, beside the snapshot; the copy
    // writes the adopted disk; record comes last.
    expect(of("adopt").startMs).toBeGreaterThanOrEqual(
      of("create-lv").startMs + of("create-lv").ms!,
    );
    expect(of("adopt").startMs).toBeGreaterThanOrEqual(of("dns").startMs + of("dns").ms!);
    expect(of("copy").startMs).toBeGreaterThanOrEqual(of("adopt").startMs + of("adopt").ms!);
    expect(of("start").startMs).toBeGreaterThanOrEqual(
      of("customize").startMs + of("customize").ms!,
    );
    expect(of("record").startMs).toBe(Math.max(...steps.map((s) => s.startMs)));
  });

  it("the text summary ends with one line per step; `farmctl ops ID` shows them too", async () => {
    const r = await sim.farmctl("clone", "gallifrey", "gallifrey-web");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /^ {2}copy {6}[\d.]+ [KMGT]?i?B in [\d.]+ m?s, [\d.]+ [KMGT]?i?B\/s$/m,
    );
    const text = r.stdout.slice(r.stdout.indexOf("steps (start, duration;"));
    const lines = text.trimEnd().split("\n");
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(STEPS);
    for (const l of lines.slice(1))
      expect(l).toMatch(/^ {2}\S+\s+\+\s*\d+\.\ds\s+\d+\.\ds {2}\|[ #]+\|$/);
    const opId = /\(operation (\w+)\)/.exec(r.stdout)![1]!;
    const detail = (await sim.farmctl("ops", opId)).stdout;
    expect(detail).toMatch(/^ {3}1 preflight\s+\+0\.0s\s+\d+\.\ds done$/m);
    expect(detail).toMatch(/^ {2}16 record\s+\+\d+\.\ds\s+\d+\.\ds done$/m);
  });
});
