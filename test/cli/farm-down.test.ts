// `farmctl farm down`, `farm status` and `farm list` against a scripted farmd.
import { describe, expect, it } from "vitest";
import type { FarmRunResult } from "../../src/api/farm.js";
import { BUILD, REPO } from "./farm-fixtures.js";
import { asksFirst, outcome, posts, runs } from "./farm-scripts.js";
import { scriptedFarmd } from "./scripted-farmd.js";

const sim = scriptedFarmd();

describe("farmctl farm down", () => {
  it("sends the name, FARM_PLATFORM and --force; needs --yes without a terminal", async () => {
    asksFirst(sim, "down");
    const refused = await sim.farmctl(["farm", "down", "rel-3-2"], {
      env: { FARM_PLATFORM: "centos-7" },
    });
    expect(refused.exitCode).toBe(65);
    runs(sim, "down", [outcome(BUILD, { action: "destroy" })]);
    const r = await sim.farmctl(["farm", "down", "rel-3-2", "--force", "--yes"], {
      env: { FARM_PLATFORM: "centos-7" },
    });
    expect(r.exitCode).toBe(0);
    expect(posts(sim).map((p) => p.body)).toEqual([
      { request: { name: "rel-3-2", platform: "centos-7", force: false, yes: false } },
      { request: { name: "rel-3-2", platform: "centos-7", force: true, yes: true } },
    ]);
    expect(r.stdout).toContain("farm down rel-3-2 (operation op-farm): 1 done");
  });

  it("reports a member it could not destroy and exits 1; the others went on", async () => {
    const error = "rel-3-2-repo is protected: `farm down --force` destroys it";
    runs(sim, "down", [
      outcome(REPO, { action: "destroy", status: "refused", error }),
      outcome(BUILD, { action: "destroy" }),
    ]);
    const r = await sim.farmctl(["farm", "down", "rel-3-2", "--yes", "--platform", ""]);
    expect(r.exitCode).toBe(1);
    expect(posts(sim)[0]!.body.request.platform).toBeNull();
    expect(r.stdout).toContain("1 refused, 1 done");
    expect(r.stdout).toMatch(
      /repo +rel-3-2-repo +destroy +refused +op-repo +rel-3-2-repo is protected/,
    );
  });
});

describe("farmctl farm down --dry-run", () => {
  it("prints what would be destroyed and kept, changes nothing, exits 1 for a member it would keep", async () => {
    const error = "rel-3-2-repo is protected: `farm down --force` destroys it";
    const result: FarmRunResult = {
      farm: "rel-3-2",
      opId: "",
      members: [
        outcome(REPO, { action: "destroy", status: "refused", opId: null, error }),
        outcome(BUILD, { action: "destroy", status: "skipped", opId: null }),
      ],
    };
    sim.answers.set("POST /v1/farms/down", {
      events: [{ type: "end", opId: "", state: "planned", result } as never],
    });
    const r = await sim.farmctl(["farm", "down", "rel-3-2", "--dry-run"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("dry run: nothing was changed.\nfarm down rel-3-2");
    expect(r.stdout).toMatch(/build-centos7 +rel-3-2-build-centos7 +destroy +skipped/);
    expect(posts(sim).map((p) => p.body)).toEqual([
      { dryRun: true, request: { name: "rel-3-2", platform: null, force: false, yes: false } },
    ]);
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
