// The LVM adapter on thin pools, against lvm2 2.03.16's own reports of a thin VG (restored from
// hand-written metadata: this kernel has no device-mapper; see test/recordings/INDEX-lvm-thin.md).
import { describe, expect, it } from "vitest";
import { BadInput, Unavailable } from "../../src/api/errors.js";
import { Lvm } from "../../src/host/lvm.js";
import { DRY_RUN_UUID, DryRunLvm } from "../../src/host/lvm-dry-run.js";
import { parseThinReport } from "../../src/host/lvm-thin.js";
import { DryRunRunner } from "../../src/host/runner.js";
import {
  ACTIVATE,
  SNAPSHOT,
  THIN_CREATE,
  THIN_SOURCE,
  thinList,
  thinReport,
} from "../fakes/lvm-recordings.js";
import { ScriptedRunner, failure, recording } from "../fakes/scripted-runner.js";

const GiB = 2 ** 30;
const SOURCE = THIN_SOURCE;
const THICK = "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0";
const TAG = "farmd_op_1a2b3c4d";

describe("parseThinReport", () => {
  it("tells thin LVs, their pool and thick LVs apart", () => {
    const rows = parseThinReport(recording("lvs-2.03.16-json-thinreport-base.txt"));
    expect(rows.map((r) => [r.name, r.segtype, r.pool, r.sizeBytes])).toEqual([
      [THICK, "linear", null, GiB],
      [SOURCE, "thin", "pool", GiB],
      ["pool", "thin-pool", null, 6 * GiB],
    ]);
    // Without device-mapper the kernel reports no use: null, not 0.
    expect(rows.find((r) => r.name === "pool")).toMatchObject({
      dataPercent: null,
      metadataPercent: null,
    });
  });

  it("reads a pool's data and metadata use", () => {
    const pool = parseThinReport(recording("lvs-2.03.16-json-thinreport-base-used.txt")).find(
      (r) => r.name === "pool",
    );
    expect(pool).toMatchObject({ dataPercent: 10.31, metadataPercent: 4.17 });
  });

  it("refuses a report without the thin fields (the plain list's)", () => {
    expect(() => parseThinReport(recording("lvs-2.03.16-json-thin-base.txt"))).toThrow(
      /missing segtype/,
    );
  });
});

describe("Lvm on a thin pool", () => {
  it("asks lvs for the thin fields, read-only", async () => {
    const r = new ScriptedRunner([
      { ...thinReport("base"), effect: (_a, o) => expect(o.readOnly).toBe(true) },
    ]);
    const rows = await new Lvm(r).thinReport("all");
    expect(rows.find((x) => x.uuid === "Th1nSr-cDis-k0Ab-CdEf-GhIj-KlMn-OpQr01")?.segtype).toBe(
      "thin",
    );
    r.assertDone();
  });

  it("makes a thin snapshot without size and reads back its UUID", async () => {
    let created = false;
    const r = new ScriptedRunner([{ argv: SNAPSHOT }, thinList("snap")]);
    const lv = await new Lvm(r).createThinSnapshot("all", SOURCE, "gallifrey-dev", {
      tags: [TAG],
      onCreated: () => (created = true),
    });
    expect(created).toBe(true);
    expect(lv).toMatchObject({ uuid: "Th1nSn-apGa-llif-reyD-evAb-CdEf-Gh0002", origin: SOURCE });
    expect(lv.attr.startsWith("V")).toBe(true); // a thin volume, not a COW snapshot ("s")
    r.assertDone();
  });

  it("makes a thin LV of the pool, and activates ignoring the skip flag", async () => {
    const r = new ScriptedRunner([
      { argv: THIN_CREATE },
      thinList("target"),
      { argv: ACTIVATE, stderr: recording("lvchange-2.03.16-activate-stderr.txt") },
    ]);
    const lvm = new Lvm(r);
    const lv = await lvm.createThin("all", "pool", "gallifrey-dev", GiB, { tags: [TAG] });
    expect(lv).toMatchObject({ uuid: "Th1nTg-tGal-lifr-eyDe-vAbC-dEfG-hI0007", origin: null });
    await lvm.activate("all", "gallifrey-dev");
    r.assertDone();
  });

  it("says a kernel without the thin target is the problem, and how to fix it", async () => {
    const r = new ScriptedRunner([
      {
        argv: SNAPSHOT,
        exitCode: 5,
        stderr: recording("lvcreate-2.03.16-thin-snapshot-nodm-stderr.txt"),
      },
    ]);
    const err = await failure(
      new Lvm(r).createThinSnapshot("all", SOURCE, "gallifrey-dev", { tags: [TAG] }),
    );
    expect(err).toBeInstanceOf(Unavailable);
    expect(err.hint).toMatch(/modprobe dm-thin-pool/);
  });

  it("refuses a bad pool name, LV name or tag before running anything", async () => {
    const r = new ScriptedRunner([]);
    const lvm = new Lvm(r);
    await expect(lvm.createThin("all", "-pool", "x", GiB)).rejects.toBeInstanceOf(BadInput);
    await expect(lvm.createThinSnapshot("all", SOURCE, "--yes")).rejects.toBeInstanceOf(BadInput);
    await expect(lvm.createThin("all", "pool", "x", 0)).rejects.toBeInstanceOf(BadInput);
    await expect(
      lvm.createThinSnapshot("all", SOURCE, "x", { tags: ["bad tag"] }),
    ).rejects.toBeInstanceOf(BadInput);
    expect(r.calls).toEqual([]);
  });

  it("a dry run shows the thin commands and changes nothing", async () => {
    const real = new ScriptedRunner([thinList("base")]);
    const shown: string[][] = [];
    const dry = new DryRunRunner(real, (argv) => void shown.push([...argv]));
    const lvm = new DryRunLvm(new Lvm(real), dry);
    const lv = await lvm.createThinSnapshot("all", SOURCE, "gallifrey-dev", { tags: [TAG] });
    await lvm.activate("all", "gallifrey-dev");
    expect(lv).toMatchObject({ uuid: DRY_RUN_UUID, sizeBytes: GiB, origin: SOURCE });
    expect(shown).toEqual([SNAPSHOT, ACTIVATE]);
    expect(real.calls.map((c) => c[0])).toEqual(["lvs"]);
    real.assertDone();
  });
});
