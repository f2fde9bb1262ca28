// Figures (issue 12, item 6): farmd's time for `list`, `show` and `audit` with 1,000 VMs — the
// ops functions farmd's handlers call, in this process, over 1,000 inventory rows in a temp state
// dir and config files holding their entries, with the scripted Runner replaying the Ganeti 3.0
// output recorded for a 1,000-instance cluster (test/recordings/gnt-*-1000*.txt). Each is the
// median of RUNS runs after WARMUP; the Runner fails on any Ganeti call per instance.
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHost } from "../../src/daemon/host.js";
import { Ganeti } from "../../src/host/ganeti.js";
import { volumesArgv } from "../../src/host/ganeti-volumes.js";
import { auditAndFix } from "../../src/ops/audit/audit.js";
import { listVms, showVm } from "../../src/ops/inventory/view.js";
import { ScriptedRunner, recording, type Expectation } from "../fakes/scripted-runner.js";
import { recordFigure } from "./figure.js";
import { inventoryFarm, type InventoryFarm } from "./inventory-farm.js";

const WARMUP = 3;
const RUNS = 11;
const LIST = recording("gnt-instance-3.0.2-list-1000.txt");
const LIST_ARGV = new Ganeti(new ScriptedRunner()).listArgv();
const VOLUMES_ARGV = volumesArgv();
const GALLIFREY = "gallifrey.xivo.vm.farm";

const list: Expectation = { argv: LIST_ARGV, stdout: LIST };
/** The one hand-made instance (gallifrey, plain): its LV from one info call. */
const gallifreyInfo: Expectation = {
  argv: ["gnt-instance", "info", "--static", GALLIFREY],
  stdout: recording("gnt-instance-3.0.2-info-static-1000-gallifrey.txt"),
};
const volumes: Expectation = {
  argv: VOLUMES_ARGV,
  stdout: recording("gnt-node-3.0.2-volumes-1000.txt"),
};
const lvs: Expectation = {
  argv: (a) => a[0] === "lvs",
  stdout: recording("lvs-2.03.16-json-vg-1000.txt"),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("inventory at scale", () => {
  let farm: InventoryFarm;
  let runner: ScriptedRunner;
  let deps: ReturnType<typeof depsOf>;
  const depsOf = (f: InventoryFarm, r: ScriptedRunner) => {
    const host = buildHost(f.config, {
      dryRun: false,
      events: () => {},
      stateDir: `${f.root}/state`,
      runner: r,
      resolve: f.resolve,
      procNet: async () => "",
    });
    return {
      ...host,
      config: f.config,
      inventory: f.inventory,
      journal: f.journal,
      resolve: f.resolve,
    };
  };

  beforeAll(() => {
    // Setup writes 4,000 entries and 1,000 records: tens of seconds on a loaded machine.
    farm = inventoryFarm(LIST);
    runner = new ScriptedRunner();
    deps = depsOf(farm, runner);
  }, 300_000);
  afterAll(() => farm?.cleanup());

  /** Times `fn` RUNS times after WARMUP, each with exactly the Ganeti calls `calls` scripts. */
  async function time<T>(calls: Expectation[], fn: () => Promise<T>, check: (r: T) => void) {
    const ms: number[] = [];
    for (let i = 0; i < WARMUP + RUNS; i++) {
      runner.expect(...calls);
      const t0 = performance.now();
      const r = await fn();
      const t = performance.now() - t0;
      runner.assertDone();
      check(r);
      if (i >= WARMUP) ms.push(t);
    }
    return { median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
  }
  const detail = (t: { median: number; min: number; max: number }, what: string) =>
    `median of ${RUNS} after ${WARMUP} warm-up (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)} ms); ${what}`;

  it("list: 1,000 VMs from one gnt-instance list", async (ctx) => {
    expect(farm.names.length).toBe(1000);
    const t = await time(
      [list, gallifreyInfo],
      () => listVms(deps),
      (rows) => {
        expect(rows.length).toBe(1001);
        expect(rows.filter((r) => r.origin === "farmctl" && r.state === "ADMIN_down").length).toBe(
          1000,
        );
        expect(rows.find((r) => r.instance === GALLIFREY)?.lv).toMatch(/\.disk0$/);
      },
    );
    recordFigure(ctx, {
      name: "list with 1,000 VMs (farmd time)",
      value: t.median,
      target: 200,
      goal: "max",
      unit: "ms",
      detail: detail(t, "1 gnt-instance list + 1 gnt-instance info (the one hand-made VM)"),
    });
  });

  it("show: one VM among 1,000", async (ctx) => {
    const name = farm.names[499]!;
    const t = await time(
      [list],
      () => showVm(deps, name),
      (d) => {
        expect(d.vm.name).toBe(name);
        expect(d.files.map((f) => f.family)).toEqual(
          expect.arrayContaining(["dns", "dhcp", "firewall"]),
        );
      },
    );
    recordFigure(ctx, {
      name: "show of one VM among 1,000 (farmd time)",
      value: t.median,
      target: 50,
      goal: "max",
      unit: "ms",
      detail: detail(t, "1 gnt-instance list; its lines in the 4 config families"),
    });
  });

  it("audit: 1,000 VMs from one gnt-instance list and one gnt-node volumes", async (ctx) => {
    const t = await time(
      [list, volumes, lvs],
      () => auditAndFix(deps, false),
      (report) => {
        // The recorded instances are stopped: each is an info finding, nothing worse.
        expect(report.findings.filter((f) => f.severity !== "info")).toEqual([]);
        expect(report.findings.filter((f) => f.code === "not-running").length).toBe(1000);
      },
    );
    recordFigure(ctx, {
      name: "audit of 1,000 VMs (farmd time)",
      value: t.median,
      target: 2000,
      goal: "max",
      unit: "ms",
      detail: detail(
        t,
        "1 gnt-instance list + 1 gnt-node volumes + 1 lvs; names resolved from the zone",
      ),
    });
  });
});
