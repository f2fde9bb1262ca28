// The real libguestfs (under TCG here) on a disk from build-disk.sh: one session inspects, reads
// and edits it, a second one reads every change back; two appliance launches in all.
import { execa } from "execa";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CommandFailed } from "../../src/api/errors.js";
import { Guestfs } from "../../src/host/guestfs.js";
import { processArgv } from "../../src/host/process.js";
import { ExecaRunner } from "../../src/host/runner.js";
import { findExecutable } from "../../src/host/which.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const BUILD_DISK = join(ROOT, "test/testbed/guest/build-disk.sh");
const MARKER = "GALLIFREY-DISK-MARKER 00112233aabbccdd";
const ODD = "/etc/packaging-farm/a 'quoted' \"name\"\nwith a newline : and -dash";
const CONF = "/etc/packaging-farm/packaging-farm.conf";
const ODD_CONTENT = "FARM_NAME=gallifrey-dev\nNOTE='single' \"double\" $HOME `cmd`\n: colon line\n";
const missing = [
  process.getuid?.() !== 0 && "root",
  !findExecutable("guestfish") && "guestfish (libguestfs-tools)",
  !readdirSync("/boot").some((f) => f.startsWith("vmlinuz-")) && "a kernel (linux-image-amd64)",
].filter(Boolean);
const why = missing.length ? ` (skipped: needs ${missing.join(", ")})` : "";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const FS_START = 1024 * 1024; // the partition build-disk.sh makes starts at 1 MiB

describe.skipIf(missing.length > 0)(`libguestfs on a built guest disk${why}`, () => {
  let dir: string;
  let img: string;
  let before: string;
  const guestfs = () =>
    new Guestfs({
      runner: new ExecaRunner(),
      backend: "direct",
      // This machine's /dev/kvm cannot run a Linux guest; a KVM host leaves this empty.
      backendSettings: ["force_tcg"],
      cacheDir: join(ROOT, "test/.cache/guestfs"), // kept: the next run's appliance is warm
      timeoutMs: 300_000,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "guestfs-real-"));
    img = join(dir, "gallifrey.img");
    await execa("bash", [BUILD_DISK, img, MARKER, "64"]);
    before = sha(readFileSync(img).subarray(0, FS_START));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("inspects, reads and edits the guest in one session, closed cleanly", async () => {
    let pid = 0;
    const session = await guestfs().open(img, (p) => (pid = p));
    expect(processArgv(pid)).toContain("--listen");
    try {
      expect(await session.inspect()).toEqual({
        root: "/dev/sda1",
        type: "linux",
        distro: "debian",
        hostname: "gallifrey",
      });
      expect(await session.readFile("/etc/hosts")).toContain(
        "127.0.1.1\tgallifrey.xivo.vm.farm\tgallifrey\n",
      );
      expect(await session.readFile("/etc/no-such-file")).toBeNull();
      await session.apply([
        { op: "mkdir", path: "/etc/packaging-farm", mode: 0o750 },
        { op: "write", path: ODD, content: ODD_CONTENT, mode: 0o640, uid: 1000, gid: 1000 },
        {
          op: "write",
          path: CONF,
          content: "FARM_NAME=gallifrey-dev\n",
          mode: 0o640,
          uid: 1000,
          gid: 1000,
        },
        {
          op: "write",
          path: "/etc/hostname",
          content: "gallifrey-dev\n",
          mode: 0o644,
          uid: 0,
          gid: 0,
        },
        { op: "delete", path: "/etc/ssh/ssh_host_*" },
        { op: "delete", path: "/etc/no-such-*" },
        { op: "truncate", path: "/etc/machine-id" },
        { op: "truncate", path: "/etc/no-such-machine-id" },
        { op: "delete", path: "/var/lib/dbus/machine-id" },
        { op: "symlink", target: "/etc/machine-id", path: "/var/lib/dbus/machine-id" },
      ]);
    } finally {
      await session.close();
    }
    expect(processArgv(pid)).toBeNull();
    await session.close(); // twice is fine
  }, 300_000);

  it("finds every change in a second session, whose failed command ends it; the bytes before the filesystem are as they were", async () => {
    let pid = 0;
    const session = await guestfs().open(img, (p) => (pid = p));
    try {
      expect((await session.inspect())?.hostname).toBe("gallifrey-dev");
      expect(await session.readFile(ODD)).toBe(ODD_CONTENT);
      expect(await session.readFile("/etc/machine-id")).toBe("");
      expect(await session.readFile("/var/lib/dbus/machine-id")).toBe(""); // through the link
      expect(await session.readFile("/etc/ssh/ssh_host_ed25519_key")).toBeNull();
      // A failing command ends guestfish's server; its error reaches the caller.
      const err = await session
        .apply([{ op: "write", path: "/no/such/dir/f", content: "x", mode: 0o600, uid: 0, gid: 0 }])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommandFailed);
      expect((err as CommandFailed).stderr).toMatch(
        /\/no\/such\/dir\/f: No such file or directory/,
      );
      await expect(session.readFile("/etc/hostname")).rejects.toThrow(/has ended/);
    } finally {
      await session.close();
    }
    expect(processArgv(pid)).toBeNull();
    // Modes and owners, read without libguestfs: debugfs on the partition.
    const fs = `${img}?offset=${FS_START}`;
    const debugfs = async (req: string) => (await execa("debugfs", ["-R", req, fs])).stdout;
    expect(await debugfs(`stat ${CONF}`)).toMatch(/Mode: +0640[\s\S]*User: +1000 +Group: +1000/);
    expect(await debugfs("stat /etc/packaging-farm")).toMatch(/Mode: +0750/);
    expect(await debugfs("ls /etc/ssh")).not.toMatch(/ssh_host/);
    expect(await debugfs("stat /var/lib/dbus/machine-id")).toMatch(
      /Type: symlink[\s\S]*Fast link dest: "\/etc\/machine-id"/,
    );
    const disk = readFileSync(img);
    expect(disk.subarray(0, MARKER.length + 1).toString()).toBe(`${MARKER}\n`);
    expect(sha(disk.subarray(0, FS_START))).toBe(before);
  }, 300_000);
});
