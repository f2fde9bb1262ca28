// The argv Guestfs sends guestfish, replaying what guestfish 1.48.6 printed for each command
// (test/recordings/guestfish-1.48.6-*, captured by test/testbed/guest/capture-guestfish-recordings.sh).
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadInput, CommandFailed, Unavailable } from "../../src/api/errors.js";
import type { ServerProcesses } from "../../src/host/guestfs-session.js";
import { parseMountpoints } from "../../src/host/guestfs-session.js";
import { Guestfs } from "../../src/host/guestfs.js";
import type { RunOptions } from "../../src/host/runner.js";
import type { GuestSession } from "../../src/ops/ports.js";
import { ScriptedRunner, failure, recording, type Expectation } from "../fakes/scripted-runner.js";

const rec = (name: string) => recording(`guestfish-1.48.6-${name}.txt`);
const LISTEN = rec("listen");
const PID = Number(/GUESTFISH_PID=(\d+)/.exec(LISTEN)?.[1]);
const QEMU = 4242;
const DISK = "/dev/all/gallifrey-dev";
const ENV = {
  LIBGUESTFS_BACKEND: "direct",
  LIBGUESTFS_BACKEND_SETTINGS: "force_tcg",
  LIBGUESTFS_CACHEDIR: "", // set per test
};
const remote = (...args: string[]) => ["guestfish", `--remote=${PID}`, "--", ...args];

let base: string;
let serverLog = "";
let runner: ScriptedRunner;
let procs: ServerProcesses & { waited: number[][]; killed: number[]; stuck: Set<number> };

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "guestfs-unit-"));
  mkdirSync(join(base, "boot"));
  writeFileSync(join(base, "boot", "vmlinuz-6.1.0-57-amd64"), "");
  ENV.LIBGUESTFS_CACHEDIR = join(base, "cache");
  runner = new ScriptedRunner();
  procs = {
    waited: [],
    killed: [],
    stuck: new Set(),
    childrenOf: (pid) => (pid === PID ? [QEMU] : []),
    argvOf: (pid) => (pid === QEMU ? ["/usr/bin/qemu-system-x86_64", "-kernel"] : null),
    waitGone: async (pids) => {
      procs.waited.push(pids);
      return !pids.some((p) => procs.stuck.has(p));
    },
    killLeftover: async (pid) => {
      procs.killed.push(pid);
      return true;
    },
  };
});
afterEach(() => {
  runner.assertDone();
  rmSync(base, { recursive: true, force: true });
});

function guestfs(which: (n: string) => string | null = (n) => `/usr/bin/${n}`): Guestfs {
  return new Guestfs({
    runner,
    backend: "direct",
    backendSettings: ["force_tcg"],
    cacheDir: ENV.LIBGUESTFS_CACHEDIR,
    timeoutMs: 600_000,
    tmpDir: base,
    bootDir: join(base, "boot"),
    which,
    processes: procs,
  });
}

/** A remote command; its env is the session's, and a failure is the caller's to read. */
const call = (
  argv: Expectation["argv"],
  stdout = "",
  more: Partial<Expectation> = {},
): Expectation => ({
  argv,
  stdout,
  effect: (_a, opts: RunOptions) => {
    expect(opts.env).toEqual({ ...ENV, TMPDIR: dirname(serverLog) });
    expect(opts.allowFailure).toBe(true);
    expect(opts.timeoutMs).toBeGreaterThan(590_000);
  },
  ...more,
});

const launch = (): Expectation[] => [
  {
    argv: ["guestfish", "--listen", "--rw", "--format=raw", "-a", DISK],
    stdout: LISTEN,
    effect: (_a, opts) => {
      serverLog = opts.stderrFile ?? "";
      // libguestfs's own temporary files go in the session's directory, removed at close
      expect(opts.env).toEqual({ ...ENV, TMPDIR: dirname(serverLog) });
      expect(dirname(serverLog)).toMatch(new RegExp(`^${base}/farmd-guestfs-`));
      expect(statSync(dirname(serverLog)).mode & 0o777).toBe(0o700);
    },
  },
  call(remote("run")),
];

const inspection = (): Expectation[] => [
  call(remote("inspect-os"), rec("inspect-os")),
  call(remote("inspect-get-type", "/dev/sda1"), rec("inspect-get-type")),
  call(remote("inspect-get-distro", "/dev/sda1"), rec("inspect-get-distro")),
  call(remote("inspect-get-hostname", "/dev/sda1"), rec("inspect-get-hostname")),
  call(remote("inspect-get-mountpoints", "/dev/sda1"), rec("inspect-get-mountpoints")),
  call(remote("mount", "/dev/sda1", "/")),
];

const closing = (): Expectation[] => [
  call(remote("umount-all")),
  call(remote("sync")),
  call(remote("exit")),
];

async function inspected(): Promise<GuestSession> {
  runner.expect(...launch(), ...inspection());
  let journaled = 0;
  const s = await guestfs().open(DISK, (pid) => (journaled = pid));
  expect(journaled).toBe(PID);
  expect(await s.inspect()).toEqual({
    root: "/dev/sda1",
    type: "linux",
    distro: "debian",
    hostname: "gallifrey",
  });
  return s;
}

describe("Guestfs session", () => {
  it("launches once, inspects, mounts the root, and closes: unmount, sync, exit, server gone", async () => {
    const s = await inspected();
    runner.expect(...closing());
    await s.close();
    await s.close();
    expect(procs.waited).toEqual([[PID], [QEMU]]);
    expect(procs.killed).toEqual([]);
    expect(readdirSync(base).sort()).toEqual(["boot", "cache"]); // the private directory is gone
  });

  it("finds no operating system on a blank disk: null, and nothing is mounted", async () => {
    runner.expect(...launch(), call(remote("inspect-os"), "")); // what inspect-os-none recorded: nothing
    const s = await guestfs().open(DISK);
    expect(await s.inspect()).toBeNull();
    expect(() => rec("inspect-os-none")).toThrow(); // the capture left no file: empty stdout
    runner.expect(call(remote("sync")), call(remote("exit")));
    await s.close();
  });

  it("reads a file with read-file after is-file, and a missing one as null", async () => {
    const s = await inspected();
    runner.expect(
      call(remote("is-file", "/etc/hosts", "followsymlinks:true"), rec("is-file-true")),
      call(remote("read-file", "/etc/hosts"), rec("read-file-hosts")),
      call(remote("is-file", "/etc/nope", "followsymlinks:true"), rec("is-file-false")),
    );
    expect(await s.readFile("/etc/hosts")).toContain(
      "127.0.1.1\tgallifrey.xivo.vm.farm\tgallifrey\n",
    );
    expect(await s.readFile("/etc/nope")).toBeNull();
    runner.expect(...closing());
    await s.close();
  });

  it("applies each edit as its own argv; content travels in a private 0600 file, never on the command line", async () => {
    const s = await inspected();
    const odd = "/etc/a 'b' \"c\"\nd : e";
    const content = "KEY='v a l'\n: \"x\"\n";
    runner.expect(
      call((a) => a.length === 6 && a[3] === "upload" && a[5] === odd, "", {
        effect: (a) => {
          const local = a[4]!;
          expect(readFileSync(local, "utf8")).toBe(content);
          expect(statSync(local).mode & 0o777).toBe(0o600);
          expect(dirname(local)).toBe(dirname(serverLog));
        },
      }),
      call(remote("chown", "1000", "1000", odd)),
      call(remote("chmod", "0640", odd)),
      call(remote("glob", "rm-f", "/etc/ssh/ssh_host_*")), // recorded: no output, matches or not
      call(remote("is-file", "/etc/machine-id", "followsymlinks:true"), rec("is-file-true")),
      call(remote("truncate", "/etc/machine-id")),
      call(remote("is-file", "/etc/gone", "followsymlinks:true"), rec("is-file-false")),
      call(remote("mkdir-p", "/etc/packaging-farm")),
      call(remote("chmod", "0750", "/etc/packaging-farm")),
      call(remote("ln-sf", "/etc/machine-id", "/var/lib/dbus/machine-id")),
    );
    await s.apply([
      { op: "write", path: odd, content, mode: 0o640, uid: 1000, gid: 1000 },
      { op: "delete", path: "/etc/ssh/ssh_host_*" },
      { op: "truncate", path: "/etc/machine-id" },
      { op: "truncate", path: "/etc/gone" },
      { op: "mkdir", path: "/etc/packaging-farm", mode: 0o750 },
      { op: "symlink", target: "/etc/machine-id", path: "/var/lib/dbus/machine-id" },
    ]);
    expect(readdirSync(dirname(serverLog))).toEqual([]); // the uploaded file is removed
    runner.expect(...closing());
    await s.close();
  });

  it("refuses a relative path, '..', a bad mode or owner, and a ':' target before running anything", async () => {
    const s = await inspected();
    const bad = [
      { op: "delete", path: "etc/passwd" },
      { op: "delete", path: "/etc/../root/x" },
      { op: "write", path: "/etc/x", content: "", mode: 0o10000, uid: 0, gid: 0 },
      { op: "write", path: "/etc/x", content: "", mode: 0o644, uid: -1, gid: 0 },
      { op: "symlink", target: ":", path: "/etc/x" },
      { op: "symlink", target: "a\nb", path: "/etc/x" },
    ] as const;
    for (const e of bad) expect(await failure(s.apply([e]))).toBeInstanceOf(BadInput);
    runner.expect(...closing());
    await s.close();
  });

  it("reports the server's error when a command fails; the session has ended, close only reaps", async () => {
    const s = await inspected();
    runner.expect(
      call((a) => a[3] === "upload" && a[5] === "/etc/x"),
      call(remote("chown", "1000", "1000", "/etc/x"), "", {
        exitCode: 1,
        // What the client and the server printed when chown failed (the server then exits).
        stderr: rec("chown-missing-client-stderr").replace(/^exit 1\n/m, ""),
        effect: () => appendFileSync(serverLog, rec("chown-missing-server-stderr")),
      }),
    );
    const err = await failure(
      s.apply([{ op: "write", path: "/etc/x", content: "x", mode: 0o600, uid: 1000, gid: 1000 }]),
    );
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err.hint).toBe(
      "libguestfs: error: chown: /etc/no-such-file: 1000.1000: No such file or directory",
    );
    expect((await failure(s.readFile("/etc/hosts"))).message).toMatch(/has ended/);
    procs.stuck.add(PID); // the server does not go by itself: killed by its PID
    await s.close();
    expect(procs.killed).toEqual([PID]);
    expect(readdirSync(base).sort()).toEqual(["boot", "cache"]);
  });

  it("says the server is gone when it is", async () => {
    const s = await inspected();
    runner.expect(
      call(remote("is-file", "/etc/hosts", "followsymlinks:true"), "", {
        exitCode: 1,
        stderr: rec("remote-gone-stderr"),
      }),
    );
    const err = await failure(s.readFile("/etc/hosts"));
    expect(err.hint).toMatch(/looks like the server is not running/);
    await s.close();
  });

  it("names linux-image-amd64 when supermin cannot build the appliance (exit 69)", async () => {
    runner.expect(
      launch()[0]!,
      call(remote("run"), "", {
        exitCode: 1,
        effect: () => appendFileSync(serverLog, rec("no-kernel-stderr")),
      }),
    );
    const err = await failure(guestfs().open(DISK));
    expect(err).toBeInstanceOf(Unavailable);
    expect(err.exitCode).toBe(69);
    expect(err.hint).toMatch(/apt-get install linux-image-amd64/);
    expect(procs.waited).toEqual([[PID]]); // the server exits after the failed run; no QEMU known
    expect(readdirSync(base)).toEqual(["boot", "cache"]);
  });

  it("reports what a listener that failed wrote to its stderr file", async () => {
    runner.expect({
      argv: ["guestfish", "--listen", "--rw", "--format=raw", "-a", DISK],
      exitCode: 1,
      effect: (_a, opts) => appendFileSync(opts.stderrFile!, rec("listen-missing-disk-stderr")),
    });
    const err = await failure(guestfs().open(DISK));
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err.hint).toBe("guestfish: access: /nonexistent/disk.img: No such file or directory");
    expect(readdirSync(base).sort()).toEqual(["boot", "cache"]);
  });

  it("refuses a disk guestfish -a would take for a URI or an option", async () => {
    for (const d of ["nbd://host/disk", "-a", "/dev/all/../sda", "/dev/all/a b"])
      expect(await failure(guestfs().open(d))).toBeInstanceOf(BadInput);
  });
});

describe("Guestfs prepare and preflight", () => {
  it("builds the appliance into cache_dir with a diskless launch, and tells whether it was there", async () => {
    const run = {
      argv: ["guestfish", "--ro", "-a", "/dev/null", "run"],
      effect: (_a: readonly string[], opts: RunOptions) => {
        expect(opts.env).toMatchObject(ENV);
        expect(opts.env?.TMPDIR).toMatch(new RegExp(`^${base}/farmd-guestfs-`));
        expect(existsSync(opts.env!.TMPDIR!)).toBe(true);
      },
    };
    runner.expect(run);
    const g = guestfs();
    expect((await g.prepare()).cached).toBe(false);
    expect(statSync(ENV.LIBGUESTFS_CACHEDIR).mode & 0o777).toBe(0o700);
    mkdirSync(g.applianceDir(), { recursive: true });
    for (const f of ["kernel", "initrd", "root"]) writeFileSync(join(g.applianceDir(), f), "");
    runner.expect(run);
    expect(await g.prepare()).toEqual({ ms: expect.any(Number), cached: true });
    // farmd's start takes a cached appliance as it is: no launch (runner.assertDone: no call left).
    expect(await g.prepare({ reuse: true })).toEqual({ ms: expect.any(Number), cached: true });
    expect(runner.calls).toHaveLength(2);
    // the launches' temporary directories are gone with them
    expect(readdirSync(base).sort()).toEqual(["boot", "cache"]);
  });

  it("names libguestfs-tools when guestfish is missing, and linux-image-amd64 when /boot has no kernel", async () => {
    const noFish = await failure(guestfs(() => null).prepare());
    expect([noFish.exitCode, noFish.hint]).toEqual([
      69,
      expect.stringMatching(/apt-get install libguestfs-tools/),
    ]);
    rmSync(join(base, "boot", "vmlinuz-6.1.0-57-amd64"));
    const noKernel = await failure(guestfs().open(DISK));
    expect([noKernel.exitCode, noKernel.hint]).toEqual([
      69,
      expect.stringMatching(/linux-image-amd64/),
    ]);
  });

  it("reports supermin's failure in prepare as a missing kernel too", async () => {
    runner.expect({
      argv: ["guestfish", "--ro", "-a", "/dev/null", "run"],
      exitCode: 1,
      stderr: rec("no-kernel-stderr"),
    });
    const err = await failure(guestfs().prepare());
    expect(err.message).toMatch(/supermin exited with error status 1/);
    expect(err.hint).toMatch(/linux-image-amd64/);
  });
});

describe("parseMountpoints", () => {
  it("reads the recorded line, and sorts several so / mounts before what lies under it", () => {
    expect(parseMountpoints(rec("inspect-get-mountpoints"))).toEqual([
      { mountpoint: "/", device: "/dev/sda1" },
    ]);
    // The same "<mountpoint>: <device>" lines, in the order of the guest's fstab.
    expect(
      parseMountpoints("/boot/efi: /dev/sda1\n/: /dev/sda3\n/boot: /dev/sda2\n").map(
        (m) => m.mountpoint,
      ),
    ).toEqual(["/", "/boot", "/boot/efi"]);
  });
});
