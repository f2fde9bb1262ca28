// Figure (issue 12, item 2): `farmctl clone` against the same clone made by hand with the seed's
// commands (hand-clone.sh, in the same testbed, waiting for the balloon as farmctl does), both
// measured in this run: the clone must take at most 0.70 of the hand's time. Same memory, balloon
// and web site on both sides; each side is undone and the host checked back as it was before the
// next. Measured A-B-B-A (farmctl, hand, hand, farmctl), twice.
import { describe, expect, it } from "vitest";
import { E2E_TEST_MS, farmctl, hostState, serialAside, type HostState } from "../e2e/helpers.js";
import { hostStateChanges } from "../e2e/host-diff.js";
import { sharedTestbed } from "../reliability/shared.js";
import { recordFigure } from "./figure.js";
import { timeline } from "./timeline.js";

const SCRIPT = new URL("./hand-clone.sh", import.meta.url).pathname;
const SERVICES = new URL("../testbed/services", import.meta.url).pathname;
const SOURCE = "gallifrey.xivo.vm.farm";
const MEMORY_MIB = 512;
const BALLOON_MIB = 256;
/** The hand clone's own values, as the seed's admin picked them (not used by the testbed). */
const HAND = {
  name: "bench-hand",
  ip: "10.10.60.77",
  mac: "52:54:00:be:0c:77",
  port: "22077",
  web: "bench-hand.dachary.org",
};
const CLONE = "bench-ct";
/** Rounds of A-B-B-A (farmctl, hand, hand, farmctl). */
const ROUNDS = 2;
/** Backstop: a clone takes one to two minutes on a 2-core machine with TCG guests. */
const RUN_MS = 6 * E2E_TEST_MS;

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("clone time benchmark", () => {
  const tb = sharedTestbed();
  const backup = () => `${tb.dir}/hand-clone-backup`;

  /** The source's disk LV and its size in bytes, as the admin reads them before starting. */
  const sourceDisk = async () => {
    const info = await tb.run(["gnt-instance", "info", "--static", SOURCE]);
    const lv = /logical_id: all\/(\S+)/.exec(info)?.[1];
    expect(lv, info).toBeDefined();
    // prettier-ignore
    const size = await tb.run(["lvs", "--noheadings", "--units=b", "--nosuffix", "-o", "lv_size", `all/${lv}`]);
    return { lv: lv!, size: size.trim() };
  };

  /** `farmctl clone`, then its destroy; the clone's time and its steps' timeline. */
  const byFarmctl = async (before: HostState) => {
    const t0 = Date.now();
    // prettier-ignore
    const r = await farmctl(tb, ["clone", "gallifrey", CLONE, "--memory", `${MEMORY_MIB}M`, "--balloon", `${BALLOON_MIB}M`, "--json"], RUN_MS);
    const ms = Date.now() - t0;
    expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
    const result = (
      JSON.parse(r.stdout) as { result: { opId: string; balloonReachedBytes: number } }
    ).result;
    expect(result.balloonReachedBytes).toBeLessThanOrEqual(BALLOON_MIB * 2 ** 20);
    const steps = await timeline(tb, [result.opId]);
    const d = await farmctl(tb, ["destroy", "--yes", CLONE, "--json"], RUN_MS);
    expect(d.exitCode, `${d.stdout}${d.stderr}`).toBe(0);
    expect(hostStateChanges(before, serialAside(await hostState(tb)))).toEqual([]);
    return { ms, steps };
  };

  /** hand-clone.sh do, then undo; the clone's time and its phases. */
  const byHand = async (before: HostState, disk: { lv: string; size: string }) => {
    const t0 = Date.now();
    // prettier-ignore
    const r = await tb.exec(["bash", SCRIPT, "do", HAND.name, disk.lv, disk.size, HAND.ip, HAND.mac, HAND.port, String(MEMORY_MIB), String(BALLOON_MIB), HAND.web, SERVICES, backup()], { timeoutMs: RUN_MS });
    const ms = Date.now() - t0;
    const undo = await tb.exec(["bash", SCRIPT, "undo", HAND.name, backup(), SERVICES], {
      timeoutMs: RUN_MS,
    });
    expect(r.exitCode, `${r.stdout}${r.stderr}`).toBe(0);
    expect(undo.exitCode, `${undo.stdout}${undo.stderr}`).toBe(0);
    expect(hostStateChanges(before, serialAside(await hostState(tb)))).toEqual([]);
    const marks = [...r.stdout.matchAll(/^phase (\S+) (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]);
    const phases = marks
      .slice(0, -1)
      .map(
        ([name, at], i) =>
          `${name} +${s(Number(at) - t0)} ${s(Number(marks[i + 1]![1]) - Number(at))}`,
      );
    return { ms, steps: `  ${HAND.name} by hand: ${phases.join(", ")}` };
  };

  it(
    "clone / by hand with the seed's commands",
    async (ctx) => {
      const before = serialAside(await hostState(tb));
      const zone = tb.readFile("/etc/bind/db.farm");
      // The hand's values must be free on this host, as the admin checked them.
      expect(zone).not.toContain(HAND.ip);
      const disk = await sourceDisk();
      // A-B-B-A, twice: the load of a shared machine drifts during the run; each side gets both
      // ends of it, and one slow clone (a cold cache) weighs an eighth, not a quarter.
      const ct: { ms: number; steps: string }[] = [];
      const hand: { ms: number; steps: string }[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        ct.push(await byFarmctl(before));
        hand.push(await byHand(before, disk));
        hand.push(await byHand(before, disk));
        ct.push(await byFarmctl(before));
      }
      console.log(`farmctl clone, from its start:\n${ct.map((c) => c.steps).join("\n")}`);
      console.log(`by hand, from its start:\n${hand.map((h) => h.steps).join("\n")}`);
      const sum = (xs: { ms: number }[]) => xs.reduce((t, x) => t + x.ms, 0);
      recordFigure(ctx, {
        value: sum(ct) / sum(hand),
        target: 0.7,
        detail: `farmctl clone ${ct.map((c) => s(c.ms)).join(", ")}; by hand ${hand.map((h) => s(h.ms)).join(", ")}`,
      });
    },
    12 * RUN_MS,
  );
});
