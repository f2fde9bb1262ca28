// LVM adapter against lvm2 2.03.16 output recorded on a loop-device VG (no device-mapper).
import { describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { Lvm, parseLvs, parseVgs } from "../../src/host/lvm.js";
import { DRY_RUN_UUID, DryRunLvm } from "../../src/host/lvm-dry-run.js";
import { DryRunRunner, type RunOptions } from "../../src/host/runner.js";
import { ScriptedRunner, recording, type Expectation, failure } from "../fakes/scripted-runner.js";

const GiB = 2 ** 30;
const REPORT = ["--reportformat", "json", "--units", "b", "--nosuffix"];
const LVS = [
  "lvs",
  ...REPORT,
  "-o",
  "lv_name,vg_name,lv_uuid,lv_size,lv_attr,origin,lv_path,data_percent,lv_tags",
  "all",
];
const VGS = ["vgs", ...REPORT, "-o", "vg_name,vg_size,vg_free,vg_extent_size", "all"];
const ACTIVATION_WARNING = recording("lvs-2.03.16-json-vg-all-stderr.txt");
const GANETI_LV = "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0";
const GANETI_UUID = "mDuleW-xujX-WVrX-zMSu-WJkL-l2LO-nUs1lW";
const readOnly = (want: boolean) => (_argv: readonly string[], opts: RunOptions) => {
  expect(opts.readOnly ?? false).toBe(want);
};
const lvs = (c: string): Expectation => ({
  argv: LVS,
  stdout: recording(`lvs-2.03.16-${c}.txt`),
  stderr: ACTIVATION_WARNING,
  effect: readOnly(true),
});
const failed = (argv: string[], c: string, exitCode = 5): Expectation => ({
  argv,
  stdout: "",
  stderr: recording(`${c}-stderr.txt`),
  exitCode,
});

describe("parseLvs / parseVgs", () => {
  it("reads every LV of the VG in bytes", () => {
    const all = parseLvs(recording("lvs-2.03.16-json-vg-all.txt"));
    expect(all.map((l) => [l.name, l.sizeBytes])).toEqual([
      ["192b8d9d-2f4a-40ae-9b0f-0b5adbade06c.disk0", GiB],
      ["2c1b6215-2df3-4ae1-bbf5-2b82358b7762.disk1", 1.5 * GiB],
      [GANETI_LV, GiB],
      ["feb5a404-24e0-446a-83ab-c0be502c4436.disk0", 2 * GiB],
    ]);
    expect(all[2]).toEqual({
      vg: "all",
      name: GANETI_LV,
      uuid: GANETI_UUID,
      sizeBytes: GiB,
      attr: "-wi-XX----",
      origin: null,
      path: `/dev/all/${GANETI_LV}`,
      dataPercent: null,
      tags: [],
    });
  });

  it("splits tags and keeps a size LVM rounded up to whole extents", () => {
    const odd = parseLvs(recording("lvs-2.03.16-json-vg-two.txt")).find((l) => l.name === "odd");
    expect(odd?.tags).toEqual(["farmctl", "op-42"]);
    expect(odd?.sizeBytes).toBe(1002438656); // asked 1000000000b, got 239 extents of 4 MiB
  });

  it("sees that Ganeti's adopt renamed the LV but kept its uuid", () => {
    const before = parseLvs(recording("lvs-2.03.16-json-vg-two.txt")).find(
      (l) => l.name === "gallifrey",
    );
    const after = parseLvs(recording("lvs-2.03.16-json-vg-all.txt")).find(
      (l) => l.uuid === before?.uuid,
    );
    expect(after?.name).toBe(GANETI_LV);
  });

  it("reads an empty report", () => {
    expect(parseLvs(recording("lvs-2.03.16-json-missing.txt"))).toEqual([]);
    expect(parseVgs(recording("vgs-2.03.16-json-novg.txt"))).toEqual([]);
  });

  it("reads a snapshot row (hand-written: snapshots cannot be recorded without device-mapper)", () => {
    const json = JSON.stringify({
      report: [
        {
          lv: [
            {
              lv_name: "farm-snap-1",
              vg_name: "all",
              lv_uuid: "aaaaaa-bbbb-cccc-dddd-eeee-ffff-gggggg",
              lv_size: "1073741824",
              lv_attr: "swi-a-s---",
              origin: "gallifrey",
              lv_path: "/dev/all/farm-snap-1",
              data_percent: "0.01",
              lv_tags: "",
            },
          ],
        },
      ],
    });
    expect(parseLvs(json)[0]).toMatchObject({ origin: "gallifrey", dataPercent: 0.01 });
  });

  it("reads the VG's size, free space and extent size", () => {
    expect(parseVgs(recording("vgs-2.03.16-json-all-used.txt"))).toEqual([
      { name: "all", sizeBytes: 42945478656, freeBytes: 37039898624, extentBytes: 4194304 },
    ]);
  });
});

describe("Lvm", () => {
  it("lists, finds and sizes with read-only queries", async () => {
    const r = new ScriptedRunner([
      lvs("json-vg-all"),
      lvs("json-vg-all"),
      lvs("json-vg-all"),
      { argv: VGS, stdout: recording("vgs-2.03.16-json-all.txt"), effect: readOnly(true) },
    ]);
    const lvm = new Lvm(r);
    expect(await lvm.list("all")).toHaveLength(4);
    expect((await lvm.find("all", GANETI_LV))?.uuid).toBe(GANETI_UUID);
    expect(await lvm.find("all", "gallifrey")).toBeNull();
    expect(await lvm.vgInfo("all")).toEqual({
      name: "all",
      sizeBytes: 42945478656,
      freeBytes: 41871736832,
      extentBytes: 4194304,
    });
    r.assertDone();
  });

  it("reports a missing VG as not found", async () => {
    const r = new ScriptedRunner([
      failed(VGS.slice(0, -1).concat("nosuchvg"), "vgs-2.03.16-json-novg"),
    ]);
    const err = await failure(new Lvm(r).vgInfo("nosuchvg"));
    expect([err.code, err.message]).toEqual(["not_found", "volume group 'nosuchvg' not found"]);
  });

  it("creates with --yes and a byte size, then reads the uuid back", async () => {
    const r = new ScriptedRunner([
      {
        argv: ["lvcreate", "--yes", "--size", "1073741824b", "--name", "gallifrey", "all"],
        stdout: recording("lvcreate-2.03.16-create.txt"),
        stderr: recording("lvcreate-2.03.16-create-stderr.txt"),
        effect: readOnly(false),
      },
      lvs("json-vg-two"),
    ]);
    const lv = await new Lvm(r).create("all", "gallifrey", GiB);
    expect([lv.name, lv.uuid, lv.sizeBytes]).toEqual(["gallifrey", GANETI_UUID, GiB]);
    r.assertDone();
  });

  it("reports a name already taken", async () => {
    const argv = ["lvcreate", "--yes", "--size", "1073741824b", "--name", "gallifrey", "all"];
    const r = new ScriptedRunner([failed(argv, "lvcreate-2.03.16-exists")]);
    const err = await failure(new Lvm(r).create("all", "gallifrey", GiB));
    expect([err.code, err.message]).toEqual([
      "already_exists",
      "logical volume 'all/gallifrey' already exists",
    ]);
  });

  it("snapshots with the design's command, and says why it cannot without device-mapper", async () => {
    const argv = [
      "lvcreate",
      "--snapshot",
      "--size",
      "1073741824b",
      "--name",
      "farm-snap-1",
      "/dev/all/gallifrey",
    ];
    const r = new ScriptedRunner([failed(argv, "lvcreate-2.03.16-snapshot-nodm")]);
    const err = await failure(new Lvm(r).createSnapshot("all", "gallifrey", "farm-snap-1", GiB));
    expect(err.code).toBe("unavailable");
    expect(err.details?.stderr).toContain("Can't create snapshot without using device-mapper");
  });

  it("removes only after checking the uuid", async () => {
    const r = new ScriptedRunner([
      lvs("json-vg-all"),
      {
        argv: ["lvremove", "-f", `all/${GANETI_LV}`],
        stdout: recording("lvremove-2.03.16-remove.txt"),
        effect: readOnly(false),
      },
    ]);
    await new Lvm(r).removeChecked("all", GANETI_LV, GANETI_UUID);
    r.assertDone();
  });

  it("refuses to remove a volume whose uuid changed", async () => {
    const r = new ScriptedRunner([lvs("json-vg-all")]);
    const err = await failure(new Lvm(r).removeChecked("all", GANETI_LV, "other-uuid"));
    expect(err.code).toBe("removal_refused");
    expect(err.message).toContain(
      `has uuid ${GANETI_UUID}, not the recorded uuid other-uuid; nothing removed`,
    );
    expect(r.calls.map((c) => c[0])).toEqual(["lvs"]);
  });

  it("refuses when an expected volume is missing, unless told it may be", async () => {
    const r = new ScriptedRunner([lvs("json-vg-all"), lvs("json-vg-all")]);
    const lvm = new Lvm(r);
    const err = await failure(lvm.removeChecked("all", "gallifrey", GANETI_UUID));
    expect([err.code, err.details?.actualUuid]).toEqual(["removal_refused", null]);
    await lvm.removeChecked("all", "gallifrey", GANETI_UUID, { allowMissing: true });
    expect(r.calls.map((c) => c[0])).toEqual(["lvs", "lvs"]);
  });

  it("refuses to remove an origin: lvremove -f would take its snapshots too", async () => {
    const doc = recording("lvs-2.03.16-json-vg-all.txt").replace(
      `"lv_uuid":"${GANETI_UUID}", "lv_size":"1073741824", "lv_attr":"-wi-XX----"`,
      `"lv_uuid":"${GANETI_UUID}", "lv_size":"1073741824", "lv_attr":"owi-XXs---"`,
    );
    const r = new ScriptedRunner([{ argv: LVS, stdout: doc }]);
    const err = await failure(new Lvm(r).removeChecked("all", GANETI_LV, GANETI_UUID));
    expect(err.message).toContain("origin of snapshots");
  });

  it("refuses names that are not LVM names", async () => {
    const lvm = new Lvm(new ScriptedRunner());
    expect(lvm.devicePath("all", "dev")).toBe("/dev/all/dev");
    for (const bad of ["../x", "-x", "a/b", "", ".."]) {
      expect(() => lvm.devicePath("all", bad)).toThrow(/invalid LV name/);
    }
    await expect(lvm.create("all", "x", 0)).rejects.toThrow(/invalid size/);
    await expect(lvm.create("all", "x", 1.5)).rejects.toThrow(/invalid size/);
  });
});

describe("DryRunLvm", () => {
  it("reads for real and only reports changes", async () => {
    const real = new ScriptedRunner([lvs("json-vg-all"), lvs("json-vg-all")]);
    const reported: string[] = [];
    const runner = new DryRunRunner(real, (argv) => reported.push(argv.join(" ")));
    const lvm = new DryRunLvm(new Lvm(runner), runner);
    const snap = await lvm.createSnapshot("all", GANETI_LV, "farm-snap-1", GiB);
    const lv = await lvm.create("all", "gallifrey-dev", GiB);
    expect([snap.uuid, snap.origin, lv.uuid]).toEqual([DRY_RUN_UUID, GANETI_LV, DRY_RUN_UUID]);
    await lvm.removeChecked("all", "gallifrey-dev", DRY_RUN_UUID);
    expect((await lvm.list("all")).length).toBe(4);
    // a recorded volume is still checked against the real VG
    await lvm.removeChecked("all", GANETI_LV, GANETI_UUID);
    expect(reported).toEqual([
      `lvcreate --snapshot --size 1073741824b --name farm-snap-1 /dev/all/${GANETI_LV}`,
      "lvcreate --yes --size 1073741824b --name gallifrey-dev all",
      "lvremove -f all/gallifrey-dev",
      `lvremove -f all/${GANETI_LV}`,
    ]);
    real.assertDone();
  });
});
