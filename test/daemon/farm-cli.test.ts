// farmctl's farm commands (the built binary) against this farmd over the simulated host01: the
// client and the daemon agree on the wire, from plan to down, and `farmctl ops` nests the members.
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { harness } from "../ops/clone-harness.js";
import { FARMCTL } from "../cli/farmd-process.js";
import { farmdFor } from "./farm-helpers.js";

const SPEC = `name = "rel"
[run]
on_error = "continue"
[defaults]
source = "gallifrey"
memory = "2G"
balloon = "1G"
[members.a]
[members.b]
web = false
`;

describe("farmctl farm against farmd", () => {
  it("plans, brings up, lists, shows, and brings down a farm; ops nests its members", async () => {
    const h = harness();
    const served = await farmdFor(h);
    const spec = join(h.root, "rel.toml");
    writeFileSync(spec, SPEC);
    const config = join(h.root, "cli.toml");
    writeFileSync(config, `socket = "${served.socket}"\n`);
    const farmctl = (...args: string[]) =>
      execa("node", [FARMCTL, ...args, "--config", config], { reject: false });

    const plan = await farmctl("farm", "plan", spec, "--detailed-exitcode");
    expect(plan.exitCode, plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/^create\s+a\s+rel-a$/m);
    expect(plan.stdout).toContain("2 to create, 0 to replace");
    const dry = await farmctl("farm", "up", spec, "--dry-run");
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toContain("dry run: nothing was changed.");
    expect(h.runner.mutations()).toEqual([]);
    const upped = await farmctl("farm", "up", spec, "--json");
    expect(upped.exitCode, upped.stderr).toBe(0);
    const result = JSON.parse(upped.stdout) as { result: { members: { status: string }[] } };
    expect(result.result.members.map((m) => m.status)).toEqual(["done", "done"]);
    const list = await farmctl("farm", "list", "--json");
    expect(JSON.parse(list.stdout)).toMatchObject({ farms: [{ farm: "rel", members: 2 }] });
    const status = await farmctl("farm", "status", "rel", "--json");
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toContain('"rel-b"');
    const ops = await farmctl("ops");
    const lines = ops.stdout.split("\n");
    const parent = lines.findIndex((l) => /farm-up\s+farm:rel\s+succeeded/.test(l));
    expect(lines[parent + 1]).toMatch(/^└ \S+\s+clone\s+rel-a\s+succeeded/);
    expect(lines[parent + 2]).toMatch(/^└ \S+\s+clone\s+rel-b\s+succeeded/);
    const down = await farmctl("farm", "down", "rel", "--yes", "--json");
    expect(down.exitCode, down.stderr).toBe(0);
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(JSON.parse((await farmctl("farm", "list", "--json")).stdout)).toMatchObject({
      farms: [],
    });
  });
});
