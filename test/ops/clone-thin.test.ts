// The clone's disk steps on a thin pool, with the scripted Runner replaying lvm2 2.03.16's reports of
// a thin VG (test/recordings/INDEX-lvm-thin.md): a thin source becomes a thin snapshot (no snapshot
// LV, no dd), a thick source is copied sparse onto a thin LV; undo by UUID; a re-run after a crash.
import { describe, expect, it } from "vitest";
import { BadInput, Unavailable } from "../../src/api/errors.js";
import type { OpEvent } from "../../src/api/events.js";
import { parseConfig } from "../../src/config/load.js";
import { Lvm } from "../../src/host/lvm.js";
import { cloneSteps, type CloneCtx, type CloneDeps } from "../../src/ops/clone/steps.js";
import type { CloneFacts, SourceFacts } from "../../src/ops/clone/request.js";
import { thinPlan, type ThinFacts } from "../../src/ops/clone/thin.js";
import type { CopyOptions } from "../../src/ops/ports.js";
import { Crash, handle, noHolders } from "../fakes/step-handle.js";
import {
  ACTIVATE,
  SNAPSHOT,
  THIN_CREATE,
  THIN_SOURCE,
  thinList,
  thinReport,
} from "../fakes/lvm-recordings.js";
import { ScriptedRunner, failure, recording } from "../fakes/scripted-runner.js";

const OP = "1a2b3c4d";
const GiB = 2 ** 30;
const THICK = "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0";
const SNAP_UUID = "Th1nSn-apGa-llif-reyD-evAb-CdEf-Gh0002";
const source = (lv: string, lvUuid: string): SourceFacts => ({
  name: "gallifrey",
  group: "xivo",
  fqdn: "gallifrey.xivo.vm.farm",
  vg: "all",
  lv,
  lvUuid,
  sizeBytes: GiB,
});
const THIN_SRC = source(THIN_SOURCE, "Th1nSr-cDis-k0Ab-CdEf-GhIj-KlMn-OpQr01");
const THICK_SRC = source(THICK, "mDuleW-xujX-WVrX-zMSu-WJkL-l2LO-nUs1lW");
const config = (lvm = "") => parseConfig(`[lvm]\n${lvm}`, "test.toml");

interface World {
  ctx: CloneCtx;
  copies: { src: string; dst: string; options?: CopyOptions }[];
  events: OpEvent[];
}

function world(runner: ScriptedRunner, thin: ThinFacts, src = THIN_SRC): World {
  const copies: World["copies"] = [];
  const events: OpEvent[] = [];
  const facts = {
    source: src,
    target: { lvName: "gallifrey-dev", name: "gallifrey-dev" },
    snapshotBytes: GiB,
    thin,
  } as unknown as CloneFacts;
  const deps = {
    lvm: new Lvm(runner, noHolders),
    config: { lvm: { vg: "all" } },
    dryRun: false,
    events: (e: OpEvent) => events.push(e),
    inventory: { update: () => {} },
    copier: {
      async copy(s: string, d: string, _n: number, ..._rest: unknown[]) {
        copies.push({ src: s, dst: d, options: _rest[3] as CopyOptions | undefined });
      },
    },
  };
  const ctx = {
    opId: OP,
    req: {} as never,
    deps: deps as unknown as CloneDeps,
    facts,
    warnings: [],
  };
  return { ctx, copies, events };
}

const step = (name: string) => cloneSteps().find((s) => s.name === name)!;
const DISK_STEPS = ["snapshot", "create-lv", "copy", "drop-snapshot"];

/** Runs the disk branch's do() in order, each with its own journal. */
async function runDisk(ctx: CloneCtx): Promise<Record<string, Record<string, unknown>>> {
  const journal: Record<string, Record<string, unknown>> = {};
  for (const name of DISK_STEPS) {
    journal[name] = {};
    await step(name).do(ctx, handle(journal[name]!));
  }
  return journal;
}

describe("preflight's thin plan", () => {
  it("a thin source is cloned as a snapshot in its own pool", async () => {
    const r = new ScriptedRunner([thinReport("base-used")]);
    expect(await thinPlan(THIN_SRC, new Lvm(r), config())).toEqual({
      mode: "snapshot",
      pool: "pool",
    });
    r.assertDone();
  });

  it("a thick source stays thick unless [lvm] thin_pool names a pool", async () => {
    const lvm = new Lvm(new ScriptedRunner([thinReport("base"), thinReport("base-used")]));
    expect(await thinPlan(THICK_SRC, lvm, config())).toBeNull();
    expect(await thinPlan(THICK_SRC, lvm, config('thin_pool = "pool"'))).toEqual({
      mode: "target",
      pool: "pool",
    });
  });

  it("refuses a thin_pool that is not a thin pool, naming what it is", async () => {
    const lvm = new Lvm(new ScriptedRunner([thinReport("base"), thinReport("base")]));
    const notPool = await failure(thinPlan(THICK_SRC, lvm, config(`thin_pool = "${THICK}"`)));
    expect(notPool).toBeInstanceOf(BadInput);
    expect(notPool.message).toMatch(/is not a thin pool of VG 'all' \(segtype linear\)/);
    const missing = await failure(thinPlan(THICK_SRC, lvm, config('thin_pool = "nosuch"')));
    expect(missing.message).toMatch(/no such LV/);
  });

  it("refuses a nearly full pool: data, metadata, or what the copy would add", async () => {
    const plan = (c: string, toml = "", src = THIN_SRC) =>
      thinPlan(src, new Lvm(new ScriptedRunner([thinReport(c)])), config(toml));
    const data = await failure(plan("base-full"));
    expect(data).toBeInstanceOf(Unavailable);
    expect(data.message).toMatch(/thin pool pool is 91.27% full \(limit 90%\)/);
    expect(data.hint).toMatch(/lvextend/);
    const meta = await failure(plan("base-metafull"));
    expect(meta.message).toMatch(/metadata is 96.02% full/);
    // 10.31% + a 1 GiB copy of a 6 GiB pool (16.67%) = 26.98%: over a limit of 25, under 30.
    const copy = await failure(
      plan("base-used", 'thin_pool = "pool"\nthin_pool_limit = 25', THICK_SRC),
    );
    expect(copy.message).toMatch(/may take it to 27.0% \(limit 25%\)/);
    await expect(
      plan("base-used", 'thin_pool = "pool"\nthin_pool_limit = 30', THICK_SRC),
    ).resolves.toEqual({ mode: "target", pool: "pool" });
  });
});

describe("a thin source", () => {
  const thin: ThinFacts = { mode: "snapshot", pool: "pool" };

  it("is cloned by one thin snapshot and its activation: no snapshot LV, no dd", async () => {
    const r = new ScriptedRunner([
      { argv: SNAPSHOT },
      thinList("snap"),
      { argv: ACTIVATE, stderr: recording("lvchange-2.03.16-activate-stderr.txt") },
    ]);
    const w = world(r, thin);
    const journal = await runDisk(w.ctx);
    r.assertDone();
    expect(w.copies).toEqual([]);
    expect(w.ctx.targetLv).toMatchObject({ name: "gallifrey-dev", uuid: SNAP_UUID });
    expect(journal["create-lv"]).toMatchObject({ uuid: SNAP_UUID, name: "gallifrey-dev" });
    expect(journal.snapshot).toEqual({});
    expect(w.events).toContainEqual({
      type: "info",
      message: "the new disk is a thin snapshot: nothing to copy",
    });
  });

  it("is undone by the UUID recorded: the thin snapshot goes, the source stays", async () => {
    const r = new ScriptedRunner([
      thinList("snap"),
      thinList("snap"),
      { argv: ["lvremove", "-f", "all/gallifrey-dev"] },
    ]);
    const { ctx } = world(r, thin);
    await step("snapshot").undo!(ctx, handle({}));
    await step("create-lv").undo!(ctx, handle({ name: "gallifrey-dev", uuid: SNAP_UUID }));
    r.assertDone();
  });

  it("a crash right after lvcreate: the re-run finds the tagged snapshot and only activates it", async () => {
    const crashed: Record<string, unknown> = {};
    const first = new ScriptedRunner([{ argv: SNAPSHOT }]);
    await expect(
      step("create-lv").do(world(first, thin).ctx, handle(crashed, true)),
    ).rejects.toThrow(Crash);
    expect(crashed).toEqual({ name: "gallifrey-dev" }); // made, its UUID never journaled
    const again = new ScriptedRunner([thinList("snap"), { argv: ACTIVATE }]);
    const w = world(again, thin);
    await step("create-lv").do(w.ctx, handle(crashed));
    again.assertDone();
    expect(crashed.uuid).toBe(SNAP_UUID);
  });

  it("a re-run that finds an LV of that name without the tag makes its own (lvcreate refuses)", async () => {
    const r = new ScriptedRunner([
      thinList("snap-untagged"),
      {
        argv: SNAPSHOT,
        exitCode: 5,
        stderr: recording("lvcreate-2.03.16-exists-stderr.txt").replace(
          "gallifrey",
          "gallifrey-dev",
        ),
      },
    ]);
    const err = await failure(
      step("create-lv").do(world(r, thin).ctx, handle({ name: "gallifrey-dev" })),
    );
    expect(err.code).toBe("already_exists");
    r.assertDone(); // neither activated nor removed what it did not make
  });

  it("a re-run before lvcreate ran creates it", async () => {
    const r = new ScriptedRunner([
      thinList("base"),
      { argv: SNAPSHOT },
      thinList("snap"),
      { argv: ACTIVATE },
    ]);
    await step("create-lv").do(world(r, thin).ctx, handle({ name: "gallifrey-dev" }));
    r.assertDone();
  });
});

describe("a thick source with [lvm] thin_pool", () => {
  const thin: ThinFacts = { mode: "target", pool: "pool" };
  const SNAP = `farm-snap-${OP}`;

  it("is copied sparse from its snapshot onto a new thin LV of the pool", async () => {
    const thickSnap = [
      ...["lvcreate", "--snapshot", "--size", `${GiB}b`, "--name", SNAP],
      ...["--addtag", `farmd_op_${OP}`, `/dev/all/${THICK}`],
    ];
    // The VG with the thick (COW) snapshot of the source added, as lvs lists one ("s" attr, origin).
    const doc = JSON.parse(recording("lvs-2.03.16-json-thin-target.txt"));
    const lvs = doc.report[0].lv as Record<string, string>[];
    lvs.push({
      ...lvs.find((l) => l.lv_name === THICK)!,
      lv_name: SNAP,
      lv_uuid: "SnApCo-wThi-ckSr-cAbC-dEfG-hIjK-lM0008",
      lv_attr: "swi-XXs---",
      origin: THICK,
      lv_path: `/dev/all/${SNAP}`,
      data_percent: "0.00",
      lv_tags: `farmd_op_${OP}`,
    });
    const withSnap = JSON.stringify(doc);
    const r = new ScriptedRunner([
      { argv: thickSnap },
      { argv: thinList("target").argv, stdout: withSnap },
      { argv: THIN_CREATE },
      thinList("target"),
      { argv: ACTIVATE },
      thinList("target"), // the copy checks the target's UUID before writing
      { argv: thinList("target").argv, stdout: withSnap }, // drop-snapshot finds it by UUID
      { argv: thinList("target").argv, stdout: withSnap },
      { argv: ["lvremove", "-f", `all/${SNAP}`] },
    ]);
    const w = world(r, thin, THICK_SRC);
    await runDisk(w.ctx);
    r.assertDone();
    expect(w.copies).toEqual([
      { src: `/dev/all/${SNAP}`, dst: "/dev/all/gallifrey-dev", options: { sparse: true } },
    ]);
  });
});
