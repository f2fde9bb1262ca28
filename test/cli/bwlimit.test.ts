// The built farmctl's clone --bwlimit, against a farmd over the simulated host01: the limit
// reaches the copy, which says how it holds it; a bad one is refused before anything is done.
import { describe, expect, it } from "vitest";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
const farmctl = (...args: string[]) => sim.farmctl(...args);

describe("farmctl clone --bwlimit", () => {
  it("limits the copy and reports the throttle in the result", async () => {
    const r = await farmctl("clone", "gallifrey", "limited-1", "--bwlimit", "64M", "--json");
    expect(r.exitCode, r.stderr).toBe(0);
    const { result } = JSON.parse(r.stdout) as {
      result: { copy: { throttle: Record<string, unknown> } };
    };
    // the simulated host has no /dev/all/<uuid>.disk0 to give a cgroup its MAJ:MIN: farmd paces dd
    expect(result.copy.throttle).toMatchObject({
      limitBytesPerSec: 64 * 2 ** 20,
      mechanism: "pacing",
      detail: expect.stringMatching(
        /cannot throttle writes to \/dev\/all\/[0-9a-f-]{36}\.disk0.*; paced instead/,
      ),
    });
  });

  it("takes 0 as no limit, and refuses a rate that is not a size (exit 65)", async () => {
    const none = await farmctl("clone", "gallifrey", "limited-2", "--bwlimit", "0", "--json");
    expect(none.exitCode, none.stderr).toBe(0);
    expect(JSON.parse(none.stdout).result.copy.throttle).toBeNull();
    // the text summary has the copy's rate, and the limit only when one held it
    const text = await farmctl("clone", "gallifrey", "limited-4", "--bwlimit", "32M");
    expect(text.stdout).toMatch(
      /^ {2}copy {6}[\d.]+ [KMGT]?i?B in [\d.]+ m?s, [\d.]+ [KMGT]?i?B\/s, limited to 32\.0 MiB\/s by pacing$/m,
    );
    const bad = await farmctl("clone", "gallifrey", "limited-3", "--bwlimit", "fast");
    expect(bad.exitCode).toBe(65);
    expect(bad.stderr).toContain("farmctl: --bwlimit 'fast' is not a size");
    expect((await farmctl("list", "--json")).stdout).not.toContain('"limited-3"');
  });
});
