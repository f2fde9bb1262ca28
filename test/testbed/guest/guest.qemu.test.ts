// The test guest does what the Ganeti testbed relies on: prints its disk's first line, takes a
// DHCP lease, serves :80 and :22, repeats its status, powers off on the ACPI button.
// QEMU's user network is restricted: nothing leaves the box but the two loopback forwards.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmpCommand } from "../../../src/host/hmp.js";
import { buildGuest, hasQemu, startVm, waitForSerial, type Vm } from "./qemu.js";

const qemu = await hasQemu();

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function firstLine(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ host: "127.0.0.1", port });
    let buf = "";
    const timer = setTimeout(() => sock.destroy(new Error(`no line on :${port}`)), timeoutMs);
    sock.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      if (buf.includes("\n")) sock.end();
    });
    sock.on("error", reject);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(buf.split("\n")[0] ?? "");
    });
  });
}

describe.skipIf(!qemu)(
  `the test guest${qemu ? "" : " (SKIPPED: qemu-system-x86_64 is not installed)"}`,
  () => {
    const instance = "guest1.test.vm.farm";
    let dir: string;
    let vm: Vm | undefined;
    let http: number;
    let ssh: number;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), "farm-guest-"));
      const guestDir = await buildGuest();
      const disk = join(dir, "disk0.img");
      writeFileSync(
        disk,
        Buffer.concat([Buffer.from("farm-disk gallifrey-dev\n"), Buffer.alloc(1 << 20)]),
      );
      [http, ssh] = [await freePort(), await freePort()];
      // prettier-ignore
      vm = await startVm({
        dir, instance, guestDir, kernelArgs: "farm.hostname=guesttest",
        extraArgs: [
          "-drive", `file=${disk},format=raw,if=virtio`,
          "-netdev", `user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:${http}-:80,hostfwd=tcp:127.0.0.1:${ssh}-:22`,
          "-device", "virtio-net-pci,netdev=n0",
        ],
      });
    }, 300_000);

    afterAll(async () => {
      await vm?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("boots, reads its disk, gets a lease and serves :80 and :22", async () => {
      if (!vm) throw new Error("no VM");
      expect(await waitForSerial(vm, /GUEST-READY/, 50_000)).toMatch(/host=guesttest/);
      expect(await waitForSerial(vm, /^DISK: /, 5000)).toBe("DISK: farm-disk gallifrey-dev");
      expect(await waitForSerial(vm, /^LEASE /, 20_000)).toBe("LEASE 10.0.2.15");
      const page = await (await fetch(`http://127.0.0.1:${http}/`)).text();
      expect(page.trim()).toBe("farmguest host=guesttest ip=10.0.2.15");
      expect(await firstLine(ssh, 5000)).toBe("SSH-2.0-farmguest\r");
      expect(await waitForSerial(vm, /^STATUS ip=10\.0\.2\.15 /, 5000)).toMatch(
        /^STATUS ip=10\.0\.2\.15 disk=farm-disk_gallifrey-dev mem=\d+kB$/,
      );
    }, 60_000);

    it("powers off when the ACPI power button is pressed (gnt-instance shutdown)", async () => {
      if (!vm) throw new Error("no VM");
      await hmpCommand(join(dir, `${instance}.monitor`), "system_powerdown", 5000);
      await waitForSerial(vm, /POWEROFF/, 10_000);
      // QEMU exits with the guest (-no-reboot): its monitor goes away.
      const deadline = Date.now() + 10_000;
      let gone = false;
      while (!gone && Date.now() < deadline) {
        gone = await hmpCommand(join(dir, `${instance}.monitor`), "info status", 1000).then(
          () => false,
          () => true,
        );
        if (!gone) await sleep(200);
      }
      expect(gone).toBe(true);
    }, 30_000);
  },
);
