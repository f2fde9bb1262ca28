// `farmctl farm plan`: the table per member, the summary line, -o, and --detailed-exitcode.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD, REPO, handMade, planOf, writeSpec } from "./farm-fixtures.js";
import { scriptedFarmd } from "./scripted-farmd.js";

const sim = scriptedFarmd();
const planned = (plan: unknown) =>
  sim.answers.set("POST /v1/farms/plan", { status: 200, body: plan });

describe("farmctl farm plan", () => {
  it("sends the parsed spec with --var-file then --var over it, and the platform", async () => {
    writeSpec(sim.dir);
    const vars = join(sim.dir, "release.ini");
    writeFileSync(vars, "# the release\nrelease = 3.2.0\ngit_rev = abc123\n");
    planned(planOf([BUILD], [BUILD]));
    const r = await sim.farmctl(
      ["farm", "plan", "rel-3-2.toml", "--var-file", "release.ini", "--var", "git_rev=def456"],
      { env: { FARM_PLATFORM: "centos-7" } },
    );
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
    expect(sim.received).toEqual([
      {
        method: "POST",
        path: "/v1/farms/plan",
        body: {
          spec: expect.objectContaining({ name: "rel-3-2", required_vars: ["release"] }),
          file: "rel-3-2.toml", // as given: farmd names it so in its messages
          vars: { release: "3.2.0", git_rev: "def456" },
          platform: "centos-7",
        },
      },
    ]);
    expect(sim.received[0]!.body.spec.members.repo).toEqual({ source: "reprepro", web: true });
  });

  it("prints each member's action and every field change, then the summary", async () => {
    writeSpec(sim.dir);
    const repo = { ...REPO, source: "reprepro-bookworm", web: null };
    const build = { ...BUILD, memory: "6G", vars: { ...BUILD.vars, release: "3.2.1" } };
    const orphan = { ...REPO, key: "web", name: "rel-3-2-web" };
    planned(
      planOf([build, repo, { ...REPO, key: "db", name: "rel-3-2-db" }], [BUILD, REPO, orphan]),
    );
    const r = await sim.farmctl(["farm", "plan", "rel-3-2.toml"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "farm rel-3-2 (all platforms):",
      "ACTION   MEMBER         VM                     CHANGES",
      "update   build-centos7  rel-3-2-build-centos7  memory: 4G → 6G",
      "                                               vars.release: 3.2.0 → 3.2.1",
      "replace  repo           rel-3-2-repo           source: reprepro → reprepro-bookworm",
      "                                               web: (default) → (none)",
      "create   db             rel-3-2-db",
      "orphan   web            rel-3-2-web            not in the spec any more: `farm up --prune` destroys it",
      "1 to create, 1 to replace, 1 to update, 0 unchanged, 1 orphaned, 0 refused",
    ]);
  });

  it("--detailed-exitcode: 0 when nothing changes, 2 when something does", async () => {
    writeSpec(sim.dir);
    planned(planOf([BUILD, REPO], [BUILD, REPO]));
    const same = await sim.farmctl(["farm", "plan", "rel-3-2.toml", "--detailed-exitcode"]);
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain("0 to create, 0 to replace, 0 to update, 2 unchanged");
    planned(planOf([BUILD, REPO], [BUILD]));
    const changes = await sim.farmctl(["farm", "plan", "rel-3-2.toml", "--detailed-exitcode"]);
    expect(changes.exitCode).toBe(2);
    expect(changes.stdout).toContain("1 to create, 0 to replace, 0 to update, 1 unchanged");
    planned(planOf([BUILD], [BUILD, REPO])); // an orphan: `up --prune` would change the farm
    expect(
      (await sim.farmctl(["farm", "plan", "rel-3-2.toml", "--detailed-exitcode"])).exitCode,
    ).toBe(2);
  });

  it("a refused member is an error: 65, or 1 with --detailed-exitcode, naming the VM and why", async () => {
    writeSpec(sim.dir);
    planned(planOf([BUILD, REPO], [BUILD], [handMade(REPO.name)]));
    for (const [flags, code] of [
      [[], 65],
      [["--detailed-exitcode"], 1],
    ] as const) {
      const r = await sim.farmctl(["farm", "plan", "rel-3-2.toml", ...flags]);
      expect(r.exitCode).toBe(code);
      expect(r.stdout).toContain(
        "refuse  repo           rel-3-2-repo           rel-3-2-repo is a Ganeti instance farmctl has no record of (made by hand?)",
      );
      expect(r.stdout).toContain("1 unchanged, 0 orphaned, 1 refused");
      expect(r.stderr).toContain("farmctl: farm up would refuse 1 member(s): rel-3-2-repo");
    }
  });

  it("an error keeps farmctl's exit codes, and exits 1 with --detailed-exitcode", async () => {
    writeSpec(sim.dir);
    sim.answers.set("POST /v1/farms/plan", {
      status: 400,
      body: {
        error: {
          code: "bad_input",
          message: "rel-3-2.toml: required variable 'release' is not set",
          exitCode: 65,
          hint: "give it with --var release=VALUE or in a --var-file",
        },
      },
    });
    const plain = await sim.farmctl(["farm", "plan", "rel-3-2.toml"]);
    expect(plain.exitCode).toBe(65);
    expect(plain.stderr).toContain("farmctl: rel-3-2.toml: required variable 'release' is not set");
    expect(plain.stderr).toContain("give it with --var release=VALUE");
    const detailed = await sim.farmctl(["farm", "plan", "rel-3-2.toml", "--detailed-exitcode"]);
    expect(detailed.exitCode).toBe(1);
    expect(detailed.stderr).toBe(plain.stderr);
    const usage = await sim.farmctl(["farm", "plan", "--detailed-exitcode"]);
    expect(usage.exitCode).toBe(1);
    expect(usage.stderr).toContain("missing required argument 'spec'");
    const noSpec = await sim.farmctl(["farm", "plan", "nosuch.toml", "--detailed-exitcode"]);
    expect(noSpec.exitCode).toBe(1);
    expect(noSpec.stderr).toContain("nosuch.toml");
  });

  it("-o writes the plan farmd made; --json prints it", async () => {
    writeSpec(sim.dir);
    const plan = planOf([BUILD, REPO], [BUILD]);
    planned(plan);
    const r = await sim.farmctl(["farm", "plan", "rel-3-2.toml", "-o", "plan.json", "--json"]);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, plan });
    expect(JSON.parse(readFileSync(join(sim.dir, "plan.json"), "utf8"))).toEqual(plan);
    const text = await sim.farmctl(["farm", "plan", "rel-3-2.toml", "-o", "plan.json"]);
    expect(text.stderr).toBe(
      "plan saved to plan.json: apply it with `farmctl farm up rel-3-2.toml --plan plan.json`",
    );
    const nowhere = await sim.farmctl(["farm", "plan", "rel-3-2.toml", "-o", "nodir/plan.json"]);
    expect(nowhere.exitCode).toBe(73);
    expect(nowhere.stderr).toContain("farmctl: cannot write the plan to nodir/plan.json");
  });
});
