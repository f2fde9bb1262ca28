// The copy throttle: the host probe, cgroup v2 io.max against a fake cgroupfs (this kernel's cgroup2
// has no controllers), device numbers of real devices, and pacing a real dd.
import { execa } from "execa";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { CgroupThrottle, ownCgroup } from "../../src/host/throttle/cgroup.js";
import {
  cgroupMounts,
  chooseMechanism,
  deviceNumber,
  Throttler,
} from "../../src/host/throttle/choose.js";
import { PacingThrottle } from "../../src/host/throttle/pacing.js";
import type { ThrottleTarget } from "../../src/host/throttle/types.js";
import { fakeCgroup2, type FakeCgroupFs } from "../fakes/fake-cgroupfs.js";
import { recording } from "../fakes/scripted-runner.js";

const MOUNTINFO = recording("mountinfo-6.18-cgroup-v1-blkio.txt");
const target = (name: string, limit = 100 * 2 ** 20): ThrottleTarget => ({
  device: "/dev/all/gallifrey-dev",
  majMin: "7:12",
  limitBytesPerSec: limit,
  name,
});

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "farmctl-throttle-"));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
};
const fake2 = (controllers: string): FakeCgroupFs => {
  const fs = fakeCgroup2(controllers);
  cleanups.push(fs.remove);
  return fs;
};
/** A mountinfo with the unified hierarchy at `v2` only, as on a systemd-less cgroup v2 host. */
const unifiedOnly = (v2: string): string =>
  `25 1 0:23 / ${v2.replace(/ /g, "\\040")} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`;

describe("the host probe", () => {
  it("reads this machine's hierarchies from its mountinfo: v1 blkio and an empty cgroup2", () => {
    expect(cgroupMounts(MOUNTINFO)).toEqual({
      v2: "/sys/fs/cgroup/unified",
      blkio: "/sys/fs/cgroup/blkio",
    });
    expect(cgroupMounts("garbage\n")).toEqual({ v2: null, blkio: null });
  });

  it("picks systemd when /run/systemd/system exists, whatever the cgroups", () => {
    const d = tempDir();
    mkdirSync(join(d, "systemd"));
    writeFileSync(join(d, "mountinfo"), MOUNTINFO);
    const m = chooseMechanism({
      paths: { systemdDir: join(d, "systemd"), mountinfo: join(d, "mountinfo") },
    });
    expect(m.name).toBe("systemd");
  });

  /** The probe on a systemd-less host whose only hierarchy is a unified one with `controllers`. */
  const probeUnified = (controllers: string) => {
    const fs = fake2(controllers);
    const d = tempDir();
    writeFileSync(join(d, "mountinfo"), unifiedOnly(fs.root));
    const paths = { systemdDir: join(d, "none"), mountinfo: join(d, "mountinfo") };
    return { fs, m: chooseMechanism({ fs, paths }) };
  };

  it("picks cgroup v2 where the unified hierarchy offers io", () => {
    expect(probeUnified("cpu io memory pids").m.name).toBe("cgroup-v2");
  });

  it("falls to pacing and says why when there is neither io nor blkio", async () => {
    const { fs, m } = probeUnified("cpu memory");
    expect(m.name).toBe("pacing");
    const s = await m.start(target("farmd-copy-x"));
    expect(s.info.detail).toContain(`the cgroup2 hierarchy at ${fs.root} has no io controller`);
    expect(s.info.detail).toContain("no cgroup v1 blkio hierarchy");
  });

  it("picks cgroup v1 on this machine (no systemd, cgroup2 without io, blkio with throttle files)", () => {
    // the real probe: what farmd would use here
    expect(chooseMechanism().name).toBe(
      existsSync("/run/systemd/system") ? "systemd" : "cgroup-v1",
    );
  });
});

describe("cgroup v2 io.max (fake cgroupfs: this kernel's cgroup2 has no controllers)", () => {
  it("enables io for children, limits the device's writes, holds dd, removes the cgroup", async () => {
    const fs = fake2("cpu io memory");
    const seen: number[] = [];
    const m = new CgroupThrottle({
      version: 2,
      root: fs.root,
      fs,
      written: (pid) => (seen.push(pid), 0),
    });
    const s = await m.start(target("farmd-copy-gallifrey-dev-1"));
    const dir = join(fs.root, "farmd-copy-gallifrey-dev-1");
    expect(readFileSync(join(fs.root, "cgroup.subtree_control"), "utf8")).toBe("io");
    expect(readFileSync(join(dir, "io.max"), "utf8")).toBe(`7:12 wbps=${100 * 2 ** 20}`);
    s.attach(4242);
    await s.ready();
    expect(readFileSync(join(dir, "cgroup.procs"), "utf8")).toBe("4242\n");
    expect(s.info).toMatchObject({ mechanism: "cgroup-v2", unthrottledBytes: 0 });
    expect(s.info.detail).toContain(
      `io.max '7:12' (/dev/all/gallifrey-dev) in ${dir}, dd moved in after its fork`,
    );
    expect(seen).toEqual([4242]);
    fs.exited(dir);
    await s.release();
    expect(existsSync(dir)).toBe(false);
  });

  it("forks dd inside the cgroup: farmd goes in for the fork and back home after", async () => {
    const fs = fake2("io");
    const writes: string[] = [];
    const write = fs.write;
    fs.write = (p, text) => (writes.push(`${p.slice(fs.root.length)} ${text}`), write(p, text));
    const self = () => "0::/farmd.service\n";
    mkdirSync(join(fs.root, "farmd.service"));
    writeFileSync(join(fs.root, "farmd.service", "cgroup.procs"), "");
    const m = new CgroupThrottle({ version: 2, root: fs.root, fs, self });
    const s = await m.start(target("farmd-copy-born"));
    writes.length = 0;
    const child = s.around!(() => (writes.push("fork"), { pid: 77 }));
    s.attach(child.pid);
    expect(writes).toEqual([
      `/farmd-copy-born/cgroup.procs ${process.pid}`,
      "fork",
      `/farmd.service/cgroup.procs ${process.pid}`,
    ]);
    expect(s.info).toMatchObject({ unthrottledBytes: 0 });
    expect(s.info.detail).toMatch(/, dd forked inside it$/);
    fs.exited(join(fs.root, "farmd-copy-born"));
    await s.release();
  });

  it("reads farmd's own cgroup from /proc/self/cgroup, v1 and v2", () => {
    const text = "12:blkio:/farmd\n1:name=systemd:/\n0::/system.slice/farmd.service\n";
    expect(ownCgroup(1, text)).toBe("/farmd");
    expect(ownCgroup(2, text)).toBe("/system.slice/farmd.service");
    expect(ownCgroup(1, readFileSync("/proc/self/cgroup", "utf8"))).toMatch(/^\//);
  });

  it("removes an empty cgroup a killed farmd left, and keeps one a copy still runs in", async () => {
    const fs = fake2("io");
    const m = new CgroupThrottle({ version: 2, root: fs.root, fs });
    fs.mkdir(join(fs.root, "farmd-copy-left"));
    fs.mkdir(join(fs.root, "farmd-copy-busy"));
    fs.write(join(fs.root, "farmd-copy-busy", "cgroup.procs"), "99");
    fs.mkdir(join(fs.root, "other"));
    const s = await m.start(target("farmd-copy-new"));
    expect(fs.list(fs.root).sort()).toEqual(["farmd-copy-busy", "farmd-copy-new", "other"]);
    // a parallel copy's cgroup, made but dd not yet in it, is kept by the next copy's sweep
    const s2 = await m.start(target("farmd-copy-parallel"));
    expect(fs.list(fs.root).sort()).toEqual([
      "farmd-copy-busy",
      "farmd-copy-new",
      "farmd-copy-parallel",
      "other",
    ]);
    await s.release();
    await s2.release();
  });

  it("reports a dd it could not move (gone already) from ready()", async () => {
    const fs = fake2("io");
    const m = new CgroupThrottle({ version: 2, root: fs.root, fs });
    const s = await m.start(target("farmd-copy-gone"));
    rmSync(join(fs.root, "farmd-copy-gone", "cgroup.procs"));
    writeFileSync(join(fs.root, "farmd-copy-gone", "cgroup.procs"), "");
    fs.write = () => {
      throw new Error("ESRCH: no such process");
    };
    s.attach(1);
    await expect(s.ready()).rejects.toThrow(/cannot move dd into .*farmd-copy-gone: ESRCH/);
    await s.release();
  });
});

describe("device numbers", () => {
  it("gives MAJ:MIN of a block device and refuses anything else", () => {
    const loops = readFileSync("/proc/partitions", "utf8").match(
      /^\s*7\s+(\d+)\s+\d+\s+(loop\d+)$/m,
    );
    if (loops && existsSync(`/dev/${loops[2]}`))
      expect(deviceNumber(`/dev/${loops[2]}`)).toBe(`7:${loops[1]}`);
    expect(() => deviceNumber("/dev/null")).toThrow(/not a block device/);
    expect(() => deviceNumber("/dev/all/nothing-here")).toThrow(FarmError);
  });
});

describe("pacing (the fallback): a real dd, stopped while ahead of the limit", () => {
  // oflag=dsync: each write waits for the disk, as a copy's oflag=direct does, so a 10 ms tick
  // lets through a bounded burst (a page-cache writer would finish inside one tick)
  it("stops dd while it is ahead of the limit and always continues it", async () => {
    const d = tempDir();
    const limit = 8 * 2 ** 20;
    const bytes = 24 * 2 ** 20;
    const signals: NodeJS.Signals[] = [];
    const kill = (pid: number, sig: NodeJS.Signals) => {
      process.kill(pid, sig);
      signals.push(sig);
    };
    const s = await new PacingThrottle({ why: "test", kill }).start({
      ...target("p", limit),
      device: join(d, "out"),
    });
    const t0 = Date.now();
    const child = execa("dd", [
      "if=/dev/zero",
      `of=${join(d, "out")}`,
      "bs=256K",
      `count=${bytes / 2 ** 18}`,
      "oflag=dsync",
    ]);
    s.attach(child.pid!);
    await s.ready();
    const r = await child;
    await s.release();
    expect(r.exitCode).toBe(0);
    expect(s.info.mechanism).toBe("pacing");
    // Paced: stopped while ahead, and continued each time (a dd left stopped never exits 0).
    expect(signals).toContain("SIGSTOP");
    expect(signals).toContain("SIGCONT");
    // How close the rate comes to the limit is a timing, not a test: logged here; farmd's event
    // loop, late on a busy machine, lets a tick's worth more through (seen: 0.76 to 1.2).
    console.log(`pacing: ${(bytes / ((Date.now() - t0) / 1000) / limit).toFixed(2)} of the limit`);
  });

  it("continues a stopped dd when the copy is cancelled, so it can die", async () => {
    const ac = new AbortController();
    const s = await new PacingThrottle().start({ ...target("p", 1), signal: ac.signal });
    const child = execa("dd", ["if=/dev/zero", "of=/dev/null", "bs=1M"], {
      cancelSignal: ac.signal,
      reject: false,
    });
    s.attach(child.pid!);
    // wait until the pacer stopped it: state T in /proc/PID/stat
    while (!/^\d+ \(dd\) T/.test(readFileSync(`/proc/${child.pid}/stat`, "utf8")))
      await new Promise((r) => setImmediate(r));
    ac.abort();
    const r = await child;
    expect(r.isCanceled).toBe(true);
    await s.release();
  });
});

describe("Throttler", () => {
  it("falls back to pacing when the host's mechanism cannot start, and says why", async () => {
    const broken = { name: "cgroup-v1" as const, start: () => Promise.reject(new Error("EACCES")) };
    const loop = readFileSync("/proc/partitions", "utf8").match(/\b(loop\d+)$/m);
    if (!loop) return;
    const s = await new Throttler(() => broken).start(`/dev/${loop[1]}`, 2 ** 20);
    expect(s.info.mechanism).toBe("pacing");
    expect(s.info.detail).toContain("cgroup-v1 failed: EACCES; paced instead");
    await s.release();
  });
});
