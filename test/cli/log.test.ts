// `farmctl log`, and the owner in list -o, show and ops: the built farmctl against an in-process
// farmd whose socket identifies the caller by its peer credentials (root here: uid:0, admin).
import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../src/api/auth.js";
import { sinceTime } from "../../src/cli/log.js";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
const farmctl = (...args: string[]) => sim.farmctl(...args);

describe("--since", () => {
  it("takes a duration back from now or an ISO time; anything else is a usage error", () => {
    const now = Date.parse("2026-12-02T18:00:00Z");
    expect(sinceTime("1h", now)).toBe("2026-12-02T17:00:00.000Z");
    expect(sinceTime("30m", now)).toBe("2026-12-02T17:30:00.000Z");
    expect(sinceTime("2d", now)).toBe("2026-11-30T18:00:00.000Z");
    expect(sinceTime("2026-12-01T08:00:00+01:00", now)).toBe("2026-12-01T08:00:00+01:00");
    expect(() => sinceTime("yesterday", now)).toThrow(/neither a duration nor an ISO 8601 time/);
  });
});

describe.skipIf(process.getuid?.() !== 0)("who did what", () => {
  it("a clone is root's (uid:0): list -o owner, show, ops and the audit log say so", async () => {
    const clone = await farmctl("clone", "gallifrey", "gallifrey-dev", "--json");
    expect(clone.exitCode).toBe(0);
    const opId = (JSON.parse(clone.stdout) as { result: { opId: string } }).result.opId;

    const list = await farmctl("list", "-o", "name,owner");
    expect(list.stdout).toMatch(/^gallifrey-dev\s+uid:0$/m);
    expect(list.stdout).toMatch(/^gallifrey\s+-$/m); // hand-made: nobody's
    expect(list.stdout.split("\n")[0]!.split(/\s+/)).toEqual(["NAME", "OWNER"]);
    expect((await farmctl("show", "gallifrey-dev")).stdout).toContain("\n  owner     uid:0\n");
    const ops = (await farmctl("ops")).stdout.split("\n");
    expect(ops[0]!.split(/\s+/).slice(0, 5)).toEqual(["ID", "KIND", "TARGET", "STATE", "OWNER"]);
    expect(ops.find((l) => l.startsWith(opId))).toMatch(
      /clone\s+gallifrey-dev\s+succeeded\s+uid:0/,
    );
    expect((await farmctl("ops", opId)).stdout).toContain(`, succeeded (started by uid:0 `);

    const log = await farmctl("log", "--json");
    expect(log.exitCode).toBe(0);
    const entries = (JSON.parse(log.stdout) as { entries: AuditEntry[] }).entries;
    expect(entries.at(-1)).toMatchObject({
      owner: "uid:0",
      role: "admin",
      via: "socket",
      method: "POST",
      route: "/v1/clone",
      target: "gallifrey-dev",
      opId,
      status: 202,
      code: null,
    });
    const text = await farmctl("log", "--since", "1h");
    expect(text.stdout.split("\n")[0]!.split(/\s+/)).toEqual([
      "TIME",
      "OWNER",
      "ROLE",
      "REQUEST",
      "TARGET",
      "OP",
      "RESULT",
    ]);
    expect(text.stdout).toMatch(
      new RegExp(`uid:0\\s+admin\\s+POST /v1/clone\\s+gallifrey-dev\\s+${opId}\\s+202$`, "m"),
    );
    const future = await farmctl("log", "--since", "2999-01-01T00:00:00Z", "--json");
    expect(JSON.parse(future.stdout)).toEqual({ ok: true, entries: [] });
    const bad = await farmctl("log", "--since", "yesterday");
    expect(bad.exitCode).toBe(64);
    expect(bad.stderr).toContain("give a duration like 30m, 1h or 2d");
  });
});
