// The whole clone of a VM whose disk is a thin LV, on the simulated host (its LVM answers as lvm2
// 2.03.16 does for a thin VG: test/recordings/INDEX-lvm-thin.md) with the real adapters and saga.
import { afterEach, describe, expect, it } from "vitest";
import { Unavailable } from "../../src/api/errors.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, withoutSerial, type Harness } from "./clone-harness.js";
import { makeThin } from "../fakes/thin-host.js";

let h: Harness;
afterEach(() => h?.cleanup());

const lvmCalls = (h: Harness) =>
  h.runner.mutations().filter((a) => a[0]!.startsWith("lv") || a[0] === "ionice");

describe("a clone of a thin source", () => {
  it("is a thin snapshot made active: no snapshot LV, no dd, the instance on it", async () => {
    h = harness();
    const source = makeThin(h.runner);
    const r = await h.clone({});
    expect(lvmCalls(h)).toEqual([
      [
        ...["lvcreate", "--snapshot", "--setactivationskip", "n", "--name", "gallifrey-dev"],
        ...["--addtag", `farmd_op_${r.opId}`, `all/${source}`],
      ],
      ["lvchange", "--activate", "y", "--ignoreactivationskip", "all/gallifrey-dev"],
    ]);
    expect(h.runner.copies.size).toBe(0);
    const inst = h.runner.instances.get("gallifrey-dev.xivo.vm.farm")!;
    const disk = h.runner.lvs.get(inst.lv)!; // renamed <uuid>.disk0 by Ganeti's adoption
    expect(disk).toMatchObject({ segtype: "thin", pool: "pool", origin: source, uuid: r.lvUuid });
    expect(h.runner.lvs.has(`farm-snap-${r.opId}`)).toBe(false);
    expect(h.inventory.get("gallifrey-dev")).toMatchObject({ state: "ready", lvUuid: r.lvUuid });
    expect(h.events).toContainEqual({
      type: "info",
      message: "the new disk is a thin snapshot: nothing to copy",
    });
    // Every step ran and is journaled done; the ones with nothing to do too.
    expect(h.journal.steps(r.opId).every((s) => s.state === "done")).toBe(true);
  });

  it("rolled back after the disk was made: the thin snapshot goes by its UUID, the source stays", async () => {
    h = harness();
    makeThin(h.runner);
    const lvsBefore = new Map(h.runner.lvs);
    const files = h.snapshot();
    h.runner.faults.push((argv) =>
      argv[0] === "gnt-instance" && argv[1] === "add"
        ? { exitCode: 1, stderr: "Failure: prerequisites not met\n" }
        : undefined,
    );
    const err = await failure(h.clone({}));
    expect(err.details?.step).toBe("adopt");
    expect(h.runner.lvs).toEqual(lvsBefore);
    expect(h.runner.calls.filter((a) => a[0] === "lvremove")).toEqual([
      ["lvremove", "-f", "all/gallifrey-dev"],
    ]);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(files));
  });

  it("refused at preflight when the pool is nearly full, nothing changed", async () => {
    h = harness();
    makeThin(h.runner, { dataPercent: "91.27" });
    const err = await failure(h.clone({}));
    expect(err).toBeInstanceOf(Unavailable);
    expect(err.message).toMatch(/thin pool pool is 91.27% full \(limit 90%\)/);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("--dry-run shows the thin commands and changes nothing", async () => {
    h = harness();
    makeThin(h.runner);
    await h.clone({}, { dryRun: true });
    expect(h.runner.mutations()).toEqual([]);
    const shown = h.events.flatMap((e) => (e.type === "command" ? [e.argv.join(" ")] : []));
    expect(shown.filter((c) => c.startsWith("lv") || c.includes(" dd "))).toEqual([
      expect.stringMatching(/^lvcreate --snapshot --setactivationskip n --name gallifrey-dev /),
      "lvchange --activate y --ignoreactivationskip all/gallifrey-dev",
    ]);
  });
});

describe("a thick source with [lvm] thin_pool", () => {
  it("is copied sparse onto a new thin LV of the pool", async () => {
    h = harness('[lvm]\nthin_pool = "pool"');
    makeThin(h.runner, { sourceThin: false });
    const r = await h.clone({});
    const create = h.runner.calls.find((a) => a[0] === "lvcreate" && a.includes("--thin"));
    expect(create).toEqual([
      ...["lvcreate", "--yes", "--thin", "--virtualsize", `${2 ** 30}b`, "--name", "gallifrey-dev"],
      ...["--addtag", `farmd_op_${r.opId}`, "all/pool"],
    ]);
    const dd = h.runner.calls.find((a) => a[0] === "ionice")!;
    expect(dd).toContain("conv=sparse,fsync");
    expect(dd).toContain(`of=/dev/all/${h.runner.instances.get("gallifrey-dev.xivo.vm.farm")!.lv}`);
    expect(h.runner.lvs.has(`farm-snap-${r.opId}`)).toBe(false); // the thick snapshot dropped
  });
});
