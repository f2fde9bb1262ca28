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

  it("lists the guest's changes in the plan; --no-customize none", async () => {
    const r = await farmctl("clone", "gallifrey", "gallifrey-dev", "--dry-run", "--var", "a=b=c");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("prepare the guest");
    const plan = r.stdout.replace(/^ +/gm, "");
    expect(plan).toContain(
      "+++ guest:/etc/hostname\n@@ new content (mode 0644, owner 0:0) @@\n+gallifrey-dev\n",
    );
    expect(plan).toContain("+127.0.1.1\tgallifrey-dev.xivo.vm.farm gallifrey-dev");
    expect(plan).toContain("+++ guest:/etc/ssh/ssh_host_*\n@@ deleted (when present) @@");
    expect(r.stdout).toMatch(
      /guest +hostname, machine-id, ssh-host-keys, net-state, files; hostname gallifrey-dev/,
    );
    expect(sim.h.guest.opened).toEqual([]);
    const none = await farmctl(
      "clone",
      "gallifrey",
      "gallifrey-dev",
      "--dry-run",
      "--no-customize",
    );
    expect(none.stdout).not.toContain("guest:/");
    expect(none.stdout).toMatch(/guest +not customized \(--no-customize\)/);
  });

  it("--var: not KEY=VALUE or given twice is a usage error (64), a bad name bad input (65)", async () => {
    const syntax = await farmctl("clone", "gallifrey", "gallifrey-dev", "--var", "git_revision");
    expect(syntax.exitCode).toBe(64);
    expect(syntax.stderr).toContain("--var 'git_revision' is not KEY=VALUE");
    const twice = await farmctl("clone", "gallifrey", "x", "--var", "a=1", "--var", "a=2");
    expect(twice.exitCode).toBe(64);
    expect(twice.stderr).toContain("--var a is given twice");
    const name = await farmctl("clone", "gallifrey", "gallifrey-dev", "--var", "git-revision=1");
    expect(name.exitCode).toBe(65);
    expect(name.stderr).toContain("variable name 'git-revision' is not an identifier");
    const line = await farmctl("clone", "gallifrey", "gallifrey-dev", "--var", "x=a\nb");
    expect(line.exitCode).toBe(65);
    expect(line.stderr).toContain("variable x contains a control character");
    expect(await sim.farmd.client.operations()).toEqual([]);
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
