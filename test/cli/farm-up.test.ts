// `farmctl farm up`: what is sent, confirmation, --plan, member progress, the summary, --dry-run.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FarmRunResult } from "../../src/api/farm.js";
import { BUILD, REPO, planOf, writeSpec } from "./farm-fixtures.js";
import { asksFirst, outcome, posts, runs } from "./farm-scripts.js";
import { scriptedFarmd } from "./scripted-farmd.js";

const sim = scriptedFarmd();

describe("farmctl farm up", () => {
  it("sends the spec and options, shows each member start and end, prints the summary", async () => {
    const spec = writeSpec(sim.dir);
    runs(sim, "up", [outcome(BUILD), outcome(REPO)]);
    const r = await sim.farmctl([
      "farm",
      "up",
      spec,
      "--var",
      "release=3.2.0",
      "--yes",
      "--on-error",
      "atomic",
    ]);
    expect(r.exitCode).toBe(0);
    expect(posts(sim)[0]!.body.request).toMatchObject({
      file: spec,
      vars: { release: "3.2.0" },
      platform: null,
      yes: true,
      onError: "atomic",
      prune: false,
    });
    expect(r.stderr).toContain("operation op-farm (Ctrl-C detaches; it goes on in farmd)");
    expect(r.stderr).toContain(
      "[build-centos7] create rel-3-2-build-centos7 ... (operation op-build-centos7)",
    );
    expect(r.stderr).toContain("[build-centos7] copied 50% of 2.0 GiB");
    expect(r.stderr).toContain("[repo] done");
    expect(r.stdout.split("\n")).toEqual([
      "farm up rel-3-2 (operation op-farm): 2 done",
      "MEMBER         VM                     ACTION  STATUS  OPERATION         ERROR",
      "build-centos7  rel-3-2-build-centos7  create  done    op-build-centos7",
      "repo           rel-3-2-repo           create  done    op-repo",
    ]);
  });

  it("exits 1 with the per-member table when a member failed", async () => {
    writeSpec(sim.dir);
    const error = "source VM 'reprepro' does not exist";
    runs(sim, "up", [outcome(BUILD), outcome(REPO, { status: "failed", error })]);
    const r = await sim.farmctl(["farm", "up", "rel-3-2.toml", "--yes"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`[repo] FAILED source: ${error}`);
    expect(r.stderr).toContain(`[repo] failed: ${error}`);
    expect(r.stdout).toContain("farm up rel-3-2 (operation op-farm): 1 done, 1 failed");
    expect(r.stdout).toMatch(new RegExp(`repo +rel-3-2-repo +create +failed +op-repo +${error}`));
    const json = await sim.farmctl(["farm", "up", "rel-3-2.toml", "--yes", "--json"]);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, result: { farm: "rel-3-2" } });
  });

  it("without a terminal, a replace needs --yes: exit 65, nothing started", async () => {
    writeSpec(sim.dir);
    asksFirst(sim, "up");
    const r = await sim.farmctl(["farm", "up", "rel-3-2.toml"]);
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain(
      "farmctl: refusing to replace rel-3-2-repo (member repo) without confirmation",
    );
    expect(r.stderr).toContain("pass --yes when no one is at a terminal to answer");
    expect(posts(sim)).toHaveLength(1);
    expect(sim.received.some((q) => q.path.includes("/events"))).toBe(false);
  });

  it("on a terminal, asks; y sends it again with yes, anything else does nothing", async () => {
    writeSpec(sim.dir);
    runs(sim, "up", [outcome(REPO, { action: "replace" })]);
    asksFirst(sim, "up"); // over runs()' route; its events stay
    const yes = await sim.farmctlOnTty(["farm", "up", "rel-3-2.toml"], "y\n");
    expect(yes.stdout).toContain("Replace rel-3-2-repo (member repo)? [y/N]");
    expect(yes.stdout).toContain("farm up rel-3-2 (operation op-farm): 1 done");
    expect(yes.exitCode).toBe(0);
    expect(posts(sim).map((p) => p.body.request.yes)).toEqual([false, true]);
    sim.received.length = 0;
    const no = await sim.farmctlOnTty(["farm", "up", "rel-3-2.toml"], "n\n");
    expect(no.exitCode).toBe(0);
    expect(no.stdout).toContain("nothing done");
    expect(posts(sim).map((p) => p.body.request.yes)).toEqual([false]);
  });

  it("--plan sends the saved plan; a file that is not one is refused before farmd is asked", async () => {
    writeSpec(sim.dir);
    const plan = planOf([BUILD, REPO], [BUILD]);
    writeFileSync(join(sim.dir, "plan.json"), JSON.stringify(plan));
    runs(sim, "up", [outcome(BUILD, { action: "noop", status: "unchanged" }), outcome(REPO)]);
    const r = await sim.farmctl(["farm", "up", "rel-3-2.toml", "--plan", "plan.json"]);
    expect(r.exitCode).toBe(0);
    expect(posts(sim)[0]!.body.request.plan).toEqual(plan);
    sim.received.length = 0;
    writeFileSync(join(sim.dir, "bad.json"), JSON.stringify({ ...plan, basis: 3 }));
    const bad = await sim.farmctl(["farm", "up", "rel-3-2.toml", "--plan", "bad.json"]);
    expect(bad.exitCode).toBe(65);
    expect(bad.stderr).toContain("farmctl: bad.json is not a farm plan: basis:");
    expect(sim.received).toEqual([]);
  });

  it("a stale plan is farmd's refusal, shown with its fix", async () => {
    writeSpec(sim.dir);
    writeFileSync(join(sim.dir, "plan.json"), JSON.stringify(planOf([BUILD], [])));
    sim.answers.set("POST /v1/farms/up", {
      status: 400,
      body: {
        error: {
          code: "bad_input",
          exitCode: 65,
          message: "the saved plan of farm 'rel-3-2' is stale: the spec or its variables changed",
          hint: "run `farmctl farm plan` again (with -o to save the new plan), check it, then `farm up --plan` it",
        },
      },
    });
    const r = await sim.farmctl(["farm", "up", "rel-3-2.toml", "--plan", "plan.json", "--yes"]);
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain("is stale: the spec or its variables changed");
    expect(r.stderr).toContain("run `farmctl farm plan` again");
  });
});

describe("farmctl farm up --dry-run", () => {
  it("prints each member's plan under its heading on stdout and starts nothing", async () => {
    const spec = writeSpec(sim.dir);
    const result: FarmRunResult = {
      farm: "rel-3-2",
      opId: "dry",
      members: [outcome(REPO, { opId: null })],
    };
    const inner = [
      { type: "step-start", seq: 0, step: "preflight", title: "check the source" },
      {
        type: "command",
        argv: ["lvcreate", "--snapshot", "--name", "farm-snap-x", "xenvg/reprepro"],
      },
      { type: "step-done", seq: 0, step: "preflight", ms: 3 },
    ];
    sim.answers.set("POST /v1/farms/up", (body) =>
      body.dryRun
        ? {
            events: [
              {
                type: "member",
                member: "repo",
                name: REPO.name,
                action: "create",
                status: "started",
                opId: null,
              },
              ...inner.map((event) => ({
                type: "member-event",
                member: "repo",
                opId: "dry",
                event,
              })),
              { type: "warning", message: "the VG would be 80% full" },
              { type: "end", opId: "dry", state: "done", result },
            ] as never,
          }
        : { status: 500, body: { error: { code: "internal", message: "not a dry run" } } },
    );
    const r = await sim.farmctl(["farm", "up", spec, "--dry-run"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual([
      "== repo: create rel-3-2-repo ==",
      "[ 1] check the source ...",
      "     $ lvcreate --snapshot --name farm-snap-x xenvg/reprepro",
    ]);
    expect(r.stdout).toContain("dry run: nothing was changed.");
    expect(r.stderr).toContain("warning: the VG would be 80% full");
    expect(posts(sim)).toHaveLength(1);
    expect(posts(sim)[0]!.body).toMatchObject({ dryRun: true, request: { yes: false } });
  });
});
