// `farmctl clone --dry-run`: the plan is the output (stdout, so `> plan.txt` keeps it); diagnostics
// stay on stderr; the summary does not call a balloon that was never tried "not reached".
import { describe, expect, it } from "vitest";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
const farmctl = (...args: string[]) => sim.farmctl(...args);

describe("farmctl clone --dry-run", () => {
  it("writes the plan, its commands and diffs, to stdout and changes nothing", async () => {
    const before = sim.h.snapshot();
    const r = await farmctl("clone", "gallifrey", "gallifrey-dev", "--dry-run");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("[ 1] check the source");
    expect(r.stdout).toMatch(/\$ lvcreate .*--snapshot/);
    expect(r.stdout).toMatch(/\$ gnt-instance add /);
    expect(r.stdout).toContain("+gallifrey-dev.xivo.vm"); // the zone's diff
    expect(r.stdout).toContain("dry run: nothing was changed");
    expect(r.stderr).not.toContain("$ lvcreate");
    expect(r.stderr).not.toContain("+gallifrey-dev");
    expect(sim.h.snapshot()).toEqual(before);
    expect(sim.h.runner.mutations()).toEqual([]);
    expect(await sim.farmd.client.operations()).toEqual([]);
  });

  it("says the balloon's target, never 'not reached' for a balloon not tried", async () => {
    const r = await farmctl("clone", "gallifrey", "gallifrey-dev", "--dry-run", "--balloon", "1G");
    expect(r.exitCode).toBe(0);
    const summary = r.stdout.slice(r.stdout.indexOf("dry run: nothing was changed"));
    expect(summary).toMatch(/balloon +target 1(\.0)? ?G/);
    expect(r.stdout + r.stderr).not.toContain("not reached");
  });

  it("destroy --dry-run writes its plan to stdout too", async () => {
    const r = await farmctl("destroy", "gallifrey", "--dry-run", "--force");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/\$ gnt-instance remove /);
    expect(r.stdout).toContain("dry run: nothing was changed");
    expect(r.stderr).not.toContain("$ gnt-instance");
    expect(await sim.farmd.client.operations()).toEqual([]);
  });
});
