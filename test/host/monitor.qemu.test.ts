// Monitor against a real QEMU 7.x under TCG: the test guest's virtio_balloon driver gives memory
// back, and a paused QEMU without a guest shows what a guest without a driver looks like.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MiB, hmpCommand } from "../../src/host/hmp.js";
import { Monitor } from "../../src/host/monitor.js";
import { qmpExecute } from "../../src/host/qmp.js";
import { buildGuest, hasQemu, startVm, waitForSerial, type Vm } from "../testbed/guest/qemu.js";

const qemu = await hasQemu();
const title = qemu
  ? "Monitor against a real QEMU"
  : "Monitor against a real QEMU (SKIPPED: qemu-system-x86_64 is not installed)";

describe.skipIf(!qemu)(title, () => {
  let dir: string;
  let guestDir: string;
  const vms: Vm[] = [];
  const start = async (...a: Parameters<typeof startVm>): Promise<Vm> => {
    const vm = await startVm(...a);
    vms.push(vm);
    return vm;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-qemu-"));
    guestDir = await buildGuest();
  }, 300_000);

  afterAll(async () => {
    // Every QEMU dies by its PID, even when a test failed half-way.
    await Promise.allSettled(vms.map((vm) => vm.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("a booted guest with virtio_balloon", () => {
    const instance = "balloon1.test.vm.farm";
    let vm: Vm;
    beforeAll(async () => {
      vm = await start({ dir, instance, guestDir });
      await waitForSerial(vm, /GUEST-READY/, 50_000);
      console.info(`guest boot-to-ready: ${Date.now() - vm.startedAt} ms`);
    }, 60_000);

    it("balloons to 256 MiB over HMP and reads it back from info balloon", async () => {
      const m = new Monitor({ monitorDir: dir, timeoutMs: 5000 });
      expect(m.protocolFor(instance)).toBe("hmp");
      expect(await m.queryBalloon(instance)).toBe(512 * MiB);
      const r = await m.balloonAndWait(instance, 256 * MiB, { timeoutMs: 30_000, pollMs: 100 });
      console.info(`HMP 512 -> 256 MiB reached in ${r.elapsedMs} ms`);
      expect(r).toMatchObject({ protocol: "hmp", reached: true, reachedBytes: 256 * MiB });
      expect(r.warning).toBeUndefined();
      const raw = await hmpCommand(join(dir, `${instance}.monitor`), "info balloon", 5000);
      expect(raw).toBe("balloon: actual=256");
      // The guest itself sees the memory go (MemTotal below 300000 kB): its status repeats every 2 s.
      const status = await waitForSerial(vm, /^STATUS .*mem=([0-2]\d{5}|\d{1,5})kB/, 10_000);
      expect(status).toMatch(/ip=none disk=none/);
    }, 60_000);

    it("balloons to 384 MiB over QMP and reads it back from query-balloon", async () => {
      const m = new Monitor({ monitorDir: dir, protocol: "qmp" });
      const r = await m.balloonAndWait(instance, 384 * MiB, { timeoutMs: 30_000, pollMs: 100 });
      console.info(`QMP -> 384 MiB reached in ${r.elapsedMs} ms`);
      expect(r).toMatchObject({ protocol: "qmp", reached: true, reachedBytes: 384 * MiB });
      const q = await qmpExecute(join(dir, `${instance}.qmp`), "query-balloon", undefined, 5000);
      expect(q).toEqual({ ok: true, value: { actual: 384 * MiB } });
      expect(await new Monitor({ monitorDir: dir }).queryBalloon(instance, "hmp")).toBe(384 * MiB);
    }, 60_000);
  });

  it("returns a warning, not an error, when no guest answers the balloon (-S)", async () => {
    const instance = "paused.test.vm.farm";
    await start({ dir, instance, guestDir: null });
    const m = new Monitor({ monitorDir: dir });
    for (const protocol of ["hmp", "qmp"] as const) {
      const r = await m.balloonAndWait(instance, 256 * MiB, {
        timeoutMs: 1500,
        pollMs: 200,
        protocol,
      });
      expect(r).toMatchObject({ protocol, reached: false, reachedBytes: 512 * MiB });
      expect(r.warning).toMatch(/never answered/);
    }
  }, 60_000);

  it("returns a warning when QEMU has no balloon device", async () => {
    const instance = "nodev.test.vm.farm";
    await start({ dir, instance, guestDir: null, balloon: false });
    const m = new Monitor({ monitorDir: dir });
    for (const protocol of ["hmp", "qmp"] as const) {
      const r = await m.balloonAndWait(instance, 256 * MiB, { protocol });
      expect(r).toMatchObject({ reached: false, reachedBytes: null });
      expect(r.warning).toMatch(/no balloon device/);
    }
  }, 60_000);
});
