// The test guest boots a partitioned disk like a real Debian would: hostname, a new machine-id,
// the units multi-user.target wants, then IDENTITY and CONF lines on its console. The disk is
// made here with the distribution's tools (sfdisk, mke2fs -d at the partition's offset).
import { execa } from "execa";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  closeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SerialConsole } from "../../../src/host/console.js";
import { buildGuest, hasQemu, startVm, waitForSerial, type Vm } from "./qemu.js";

const qemu = await hasQemu();
const OFFSET = 2048 * 512;

/** busybox from the .deb build-guest.sh keeps, with a directory of its applets as links. */
async function busybox(guestDir: string, into: string): Promise<{ bin: string; applets: string }> {
  const deb = readdirSync(join(guestDir, "debs")).find((f) => f.startsWith("busybox-static_"));
  if (!deb) throw new Error(`no busybox-static .deb in ${guestDir}/debs`);
  await execa("dpkg-deb", ["-x", join(guestDir, "debs", deb), into]);
  const applets = join(into, "applets");
  mkdirSync(applets);
  await execa(join(into, "bin/busybox"), ["--install", "-s", applets]);
  return { bin: join(into, "bin/busybox"), applets };
}

async function sshKey(dir: string, type: string): Promise<{ pub: string; fingerprint: string }> {
  const key = join(dir, `ssh_host_${type}_key`);
  await execa("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", "root@gallifrey", "-f", key]);
  const { stdout } = await execa("ssh-keygen", ["-lf", `${key}.pub`]);
  return { pub: `${key}.pub`, fingerprint: stdout.split(" ")[1]! };
}

let guestDir = "";
let tmp = "";
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "farm-bootroot-"));
  guestDir = await buildGuest();
}, 300_000);
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the guest's fingerprint script", () => {
  it("prints what ssh-keygen -lf prints, under busybox", async () => {
    const bb = await busybox(guestDir, join(tmp, "bb"));
    for (const type of ["ed25519", "rsa", "ecdsa"]) {
      const key = await sshKey(tmp, type);
      const r = await execa(bb.bin, ["sh", join(import.meta.dirname, "fingerprint"), key.pub], {
        env: { PATH: bb.applets },
        extendEnv: false,
      });
      expect(r.stdout).toBe(key.fingerprint);
    }
  });
});

describe.skipIf(!qemu)(
  `the test guest on a partitioned disk${qemu ? "" : " (SKIPPED: qemu-system-x86_64 is not installed)"}`,
  () => {
    let vm: Vm | undefined;
    let disk: string;
    let mid: string | undefined;
    const keys: string[] = [];

    beforeAll(async () => {
      const root = join(tmp, "root");
      const file = (path: string, text: string, mode = 0o644) => {
        mkdirSync(join(root, path, ".."), { recursive: true });
        writeFileSync(join(root, path), text, { mode });
      };
      const bb = await busybox(guestDir, join(tmp, "bbroot"));
      mkdirSync(join(root, "bin"), { recursive: true });
      await execa("cp", [bb.bin, join(root, "bin/busybox")]);
      symlinkSync("busybox", join(root, "bin/sh"));
      file("etc/hostname", "tardis\n");
      file("etc/machine-id", "");
      mkdirSync(join(root, "etc/ssh"), { recursive: true });
      for (const type of ["ed25519", "rsa"]) {
        const k = await sshKey(join(root, "etc/ssh"), type);
        keys.push(k.fingerprint);
      }
      // Only the public halves matter to the guest's console.
      for (const f of readdirSync(join(root, "etc/ssh")))
        if (!f.endsWith(".pub")) rmSync(join(root, "etc/ssh", f));
      file(
        "etc/packaging-farm/packaging-farm.conf",
        "# a comment\nNAME=tardis\nGIT_REVISION=abc123\nnot a key line\n",
      );
      // A first-boot-like unit: prints, leaves a mark and removes its own wants link.
      file(
        "usr/local/sbin/test-unit",
        "#!/bin/sh\necho TEST-UNIT ran host=$(hostname) mid=$(cat /etc/machine-id)\n" +
          "echo ran >/etc/test-unit.ran\n" +
          "rm -f /etc/systemd/system/multi-user.target.wants/test-unit.service\n",
        0o755,
      );
      file(
        "etc/systemd/system/test-unit.service",
        "[Unit]\nDescription=test\n[Service]\nType=oneshot\nExecStart=/bin/sh /usr/local/sbin/test-unit\n",
      );
      // Its condition is false: systemd would skip it.
      file(
        "etc/systemd/system/skip-unit.service",
        "[Unit]\nConditionPathExists=/nonexistent\n[Service]\nType=oneshot\nExecStart=/bin/sh -c 'echo SKIP-UNIT ran'\n",
      );
      mkdirSync(join(root, "etc/systemd/system/multi-user.target.wants"));
      symlinkSync(
        "../skip-unit.service",
        join(root, "etc/systemd/system/multi-user.target.wants/skip-unit.service"),
      );
      symlinkSync(
        "/etc/systemd/system/test-unit.service",
        join(root, "etc/systemd/system/multi-user.target.wants/test-unit.service"),
      );
      chmodSync(join(root, "usr/local/sbin/test-unit"), 0o755);

      disk = join(tmp, "disk0.img");
      writeFileSync(disk, "");
      await execa("truncate", ["-s", "16M", disk]);
      await execa("sfdisk", ["-q", disk], { input: "label: dos\nstart=2048, type=83\n" });
      // The marker the DISK: line shows, in the MBR's bootstrap bytes (the table is at 446).
      const fd = openSync(disk, "r+");
      writeSync(fd, Buffer.from("farm-disk tardis\n"), 0, undefined, 0);
      closeSync(fd);
      // prettier-ignore
      await execa("mke2fs", ["-q", "-F", "-t", "ext4", "-E", `offset=${OFFSET}`, "-d", root, disk, "15M"]);

      // prettier-ignore
      vm = await startVm({
        dir: tmp, instance: "bootroot.test.vm.farm", guestDir, kernelArgs: "farm.hostname=guesttest",
        extraArgs: ["-drive", `file=${disk},format=raw,if=virtio`],
      });
    }, 300_000);

    afterAll(async () => {
      await vm?.stop();
    });

    it("sets the hostname, makes a machine-id, runs the wanted unit and prints its identity", async () => {
      if (!vm) throw new Error("no VM");
      expect(await waitForSerial(vm, /GUEST-READY/, 50_000)).toMatch(/host=guesttest/);
      expect(await waitForSerial(vm, /^DISK: /, 10_000)).toBe("DISK: farm-disk tardis");
      expect(await waitForSerial(vm, /^ROOT-DISK /, 10_000)).toBe("ROOT-DISK mounted host=tardis");
      const ran = await waitForSerial(vm, /^TEST-UNIT /, 30_000);
      const identity = await waitForSerial(vm, /^IDENTITY /, 30_000);
      mid = /machine-id=([0-9a-f]{32}) /.exec(identity)?.[1];
      expect(mid).toBeDefined();
      expect(identity).toBe(`IDENTITY host=tardis machine-id=${mid} keys=${keys.join(",")}`);
      expect(ran).toBe(`TEST-UNIT ran host=tardis mid=${mid}`);
      expect(await waitForSerial(vm, /^UNIT test-unit/, 5000)).toBe(
        "UNIT test-unit.service status=0",
      );
      expect(await waitForSerial(vm, /^UNIT skip-unit/, 5000)).toBe(
        "UNIT skip-unit.service skipped: /nonexistent",
      );
      expect(await waitForSerial(vm, /^CONF NAME=/, 5000)).toBe("CONF NAME=tardis");
      expect(await waitForSerial(vm, /^CONF GIT/, 5000)).toBe("CONF GIT_REVISION=abc123");
      expect(await waitForSerial(vm, /^STATUS /, 5000)).toMatch(
        /^STATUS ip=none disk=farm-disk_tardis /,
      );

      // What the unit did is on the disk (synced): its mark, the machine-id, its link gone.
      await vm.stop();
      const debugfs = async (cmd: string) =>
        (await execa("debugfs", ["-R", cmd, `${disk}?offset=${OFFSET}`], { stderr: "ignore" }))
          .stdout;
      expect(await debugfs("cat /etc/test-unit.ran")).toBe("ran");
      expect((await debugfs("cat /etc/machine-id")).trim()).toBe(mid);
      expect(await debugfs("ls -l /etc/systemd/system/multi-user.target.wants")).not.toMatch(
        /test-unit/,
      );
    }, 120_000);

    it("boots again with its machine-id and no unit, read through Ganeti's kind of console socket", async () => {
      if (!mid) throw new Error("the first boot did not run");
      const instance = "bootroot2.test.vm.farm";
      // prettier-ignore
      vm = await startVm({
        dir: tmp, instance, guestDir, serialSocket: true,
        extraArgs: ["-drive", `file=${disk},format=raw,if=virtio`],
      });
      const console = new SerialConsole({ monitorDir: tmp });
      const seen = await console.readUntil(
        instance,
        (text) => (/^CONF GIT_REVISION=.*\n/m.test(text) ? text : null),
        60_000,
      );
      expect(seen).toContain(`IDENTITY host=tardis machine-id=${mid} keys=${keys.join(",")}\n`);
      expect(seen).not.toContain("TEST-UNIT");
      expect(seen).not.toContain("SKIP-UNIT");
      // Let go and come back: QEMU serves the next client (no history, the lines repeat).
      const again = await console.readUntil(
        instance,
        (t) => (/^IDENTITY .*\n/m.test(t) ? t : null),
        30_000,
      );
      expect(again).toMatch(/IDENTITY host=tardis /);
    }, 120_000);
  },
);
