// `farmctl farm up` and `farm down`: what is sent, confirmation, member progress, the summary.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { FarmRunResult, MemberOutcome } from "../../src/api/farm.js";
import { BUILD, REPO, planOf, runEvents, writeSpec } from "./farm-fixtures.js";
import { scriptedFarmd } from "./scripted-farmd.js";

const sim = scriptedFarmd();

const outcome = (m: typeof BUILD, over: Partial<MemberOutcome> = {}): MemberOutcome => ({
  member: m.key,
  name: m.name,
  action: "create",
  status: "done",
  opId: `op-${m.key}`,
  error: null,
  ...over,
});

/** farmd runs the farm as operation `opId`, its members ending as `members`. */
function runs(route: "up" | "down", members: MemberOutcome[], opId = "op-farm") {
  const result: FarmRunResult = { farm: "rel-3-2", opId, members };
  sim.answers.set(`POST /v1/farms/${route}`, { status: 202, body: { opId } });
  sim.answers.set(`GET /v1/operations/${opId}/events`, { events: runEvents(opId, result) });
}

/** farmd asks first unless `yes`: 409 confirm_needed listing what would be replaced. */
function asksFirst(route: "up" | "down", opId = "op-farm") {
  const ok = { status: 202, body: { opId } };
  sim.answers.set(`POST /v1/farms/${route}`, (body) =>
    body.request.yes
      ? ok
      : {
          status: 409,
          body: {
            error: {
              code: "confirm_needed",
              message: "farm rel-3-2: confirm replacing rel-3-2-repo",
              details: { actions: [{ action: "replace", member: "repo", name: "rel-3-2-repo" }] },
            },
          },
        },
  );
}

const posts = () => sim.received.filter((r) => r.method === "POST");

describe("farmctl farm up", () => {
  it("sends the spec and options, shows each member start and end, prints the summary", async () => {
    writeSpec(sim.dir);
    runs("up", [outcome(BUILD), outcome(REPO)]);
    const r = await sim.farmctl([
      "farm",
      "up",
      "rel-3-2.toml",
      "--var",
      "release=3.2.0",
      "--yes",
      "--on-error",
      "atomic",
    ]);
    expect(r.exitCode).toBe(0);
    expect(posts()[0]!.body.request).toMatchObject({
      file: "rel-3-2.toml",
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
    runs("up", [outcome(BUILD), outcome(REPO, { status: "failed", error })]);
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
    asksFirst("up");
    const r = await sim.farmctl(["farm", "up", "rel-3-2.toml"]);
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain(
      "farmctl: refusing to replace rel-3-2-repo (member repo) without confirmation",
    );
    expect(r.stderr).toContain("pass --yes when no one is at a terminal to answer");
    expect(posts()).toHaveLength(1);
    expect(sim.received.some((q) => q.path.includes("/events"))).toBe(false);
  });

  it("on a terminal, asks; y sends it again with yes, anything else does nothing", async () => {
    writeSpec(sim.dir);
    runs("up", [outcome(REPO, { action: "replace" })]);
    asksFirst("up"); // over runs()' route; its events stay
    const yes = await sim.farmctlOnTty(["farm", "up", "rel-3-2.toml"], "y\n");
    expect(yes.stdout).toContain("Replace rel-3-2-repo (member repo)? [y/N]");
    expect(yes.stdout).toContain("farm up rel-3-2 (operation op-farm): 1 done");
    expect(yes.exitCode).toBe(0);
    expect(posts().map((p) => p.body.request.yes)).toEqual([false, true]);
    sim.received.length = 0;
    const no = await sim.farmctlOnTty(["farm", "up", "rel-3-2.toml"], "n\n");
    expect(no.exitCode).toBe(0);
    expect(no.stdout).toContain("nothing done");
    expect(posts().map((p) => p.body.request.yes)).toEqual([false]);
  });

  it("--plan sends the saved plan; a file that is not one is refused before farmd is asked", async () => {
    writeSpec(sim.dir);
    const plan = planOf([BUILD, REPO], [BUILD]);
    writeFileSync(join(sim.dir, "plan.json"), JSON.stringify(plan));
    runs("up", [outcome(BUILD, { action: "noop", status: "unchanged" }), outcome(REPO)]);
    const r = await sim.farmctl(["farm", "up", "rel-3-2.toml", "--plan", "plan.json"]);
    expect(r.exitCode).toBe(0);
    expect(posts()[0]!.body.request.plan).toEqual(plan);
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

describe("farmctl farm down", () => {
  it("sends the name, FARM_PLATFORM and --force; needs --yes without a terminal", async () => {
    asksFirst("down");
    const refused = await sim.farmctl(["farm", "down", "rel-3-2"], {
      env: { FARM_PLATFORM: "centos-7" },
    });
    expect(refused.exitCode).toBe(65);
    runs("down", [outcome(BUILD, { action: "destroy" })]);
    const r = await sim.farmctl(["farm", "down", "rel-3-2", "--force", "--yes"], {
      env: { FARM_PLATFORM: "centos-7" },
    });
    expect(r.exitCode).toBe(0);
    expect(posts().map((p) => p.body)).toEqual([
      { request: { name: "rel-3-2", platform: "centos-7", force: false, yes: false } },
      { request: { name: "rel-3-2", platform: "centos-7", force: true, yes: true } },
    ]);
    expect(r.stdout).toContain("farm down rel-3-2 (operation op-farm): 1 done");
  });

  it("reports a member it could not destroy and exits 1; the others went on", async () => {
    const error = "rel-3-2-repo is protected: `farm down --force` destroys it";
    runs("down", [
      outcome(REPO, { action: "destroy", status: "refused", error }),
      outcome(BUILD, { action: "destroy" }),
    ]);
    const r = await sim.farmctl(["farm", "down", "rel-3-2", "--yes", "--platform", ""]);
    expect(r.exitCode).toBe(1);
    expect(posts()[0]!.body.request.platform).toBeNull();
    expect(r.stdout).toContain("1 refused, 1 done");
    expect(r.stdout).toMatch(
      /repo +rel-3-2-repo +destroy +refused +op-repo +rel-3-2-repo is protected/,
    );
  });
});

describe("farmctl farm status and list", () => {
  it("shows each member, its variables and its drift; --json the document", async () => {
    const status = {
      farm: "rel-3-2",
      specHash: "c0ffee",
      file: "/srv/rel-3-2.toml",
      updatedAt: "2026-12-02T14:00:00Z",
      members: [
        {
          member: "repo",
          name: "rel-3-2-repo",
          platform: null,
          state: "running",
          ip: "10.10.60.12",
          sshPort: 22012,
          webName: "rel-3-2-repo.example.org",
          vars: { release: "3.2.0" },
          drift: ["memory is 6G, recorded 4G"],
        },
      ],
    };
    sim.answers.set("GET /v1/farms/rel-3-2", { status: 200, body: status });
    const r = await sim.farmctl(["farm", "status", "rel-3-2"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout.split("\n")).toEqual([
      "farm rel-3-2 (spec /srv/rel-3-2.toml, updated 2026-12-02T14:00:00Z)",
      "MEMBER  VM            PLATFORM  STATE    ADDRESS      SSH    WEB",
      "repo    rel-3-2-repo  -         running  10.10.60.12  22012  rel-3-2-repo.example.org",
      "variables:",
      "MEMBER  VARIABLES",
      "repo    release=3.2.0",
      "drift against the record:",
      "  repo: memory is 6G, recorded 4G",
    ]);
    const json = await sim.farmctl(["farm", "status", "rel-3-2", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({ ok: true, status });
  });

  it("names an unknown farm (exit 65) and lists the farms", async () => {
    sim.answers.set("GET /v1/farms/nosuch", {
      status: 404,
      body: { error: { code: "not_found", message: "no farm 'nosuch'", exitCode: 65 } },
    });
    const none = await sim.farmctl(["farm", "status", "nosuch"]);
    expect(none.exitCode).toBe(65);
    expect(none.stderr).toContain("farmctl: no farm 'nosuch'");
    const farms = [
      { farm: "rel-3-2", members: 3, file: "/srv/rel-3-2.toml", updatedAt: "2026-12-02T14:00:00Z" },
    ];
    sim.answers.set("GET /v1/farms", { status: 200, body: { farms } });
    const list = await sim.farmctl(["farm", "list"]);
    expect(list.stdout.split("\n")).toEqual([
      "FARM     MEMBERS  SPEC               UPDATED",
      "rel-3-2  3        /srv/rel-3-2.toml  2026-12-02T14:00:00Z",
    ]);
    sim.answers.set("GET /v1/farms", { status: 200, body: [] });
    expect((await sim.farmctl(["farm", "list"])).stdout).toBe(
      "no farm (bring one up with `farmctl farm up SPEC`)",
    );
  });
});
