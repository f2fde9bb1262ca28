// The kernel's block I/O controller: a cgroup per copy with a write limit on the target device.
import * as fs from "node:fs";
import { join } from "node:path";
import { OperationFailed } from "../../api/errors.js";
import type { ThrottleMechanism, ThrottleSession, ThrottleTarget, WrittenBytes } from "./types.js";

/** The cgroupfs calls the throttle makes; a test passes a fake that behaves as cgroupfs does. */
export interface CgroupFs {
  mkdir(path: string): void;
  /** One write(2) of the text, as the kernel expects for a cgroup control file. */
  write(path: string, text: string): void;
  read(path: string): string;
  list(dir: string): string[];
  /** cgroupfs removes a cgroup whose cgroup.procs is empty, control files and all. */
  rmdir(path: string): void;
}

export const realCgroupFs: CgroupFs = {
  mkdir: (p) => fs.mkdirSync(p),
  write: (p, text) => fs.writeFileSync(p, text),
  read: (p) => fs.readFileSync(p, "utf8"),
  list: (d) => fs.readdirSync(d),
  rmdir: (p) => fs.rmdirSync(p),
};

export const CGROUP_PREFIX = "farmd-copy-";

/** The cgroups this farmd made and has not released: a parallel copy's sweep keeps them. */
const live = new Set<string>();

export interface CgroupThrottleOptions {
  version: 1 | 2;
  /** The blkio hierarchy's mount (v1) or the unified hierarchy's root (v2). */
  root: string;
  fs?: CgroupFs;
  written?: WrittenBytes;
  /** /proc/self/cgroup: where farmd's thread goes back to after the fork. */
  self?: () => string;
}

/** This process's cgroup in the v1 blkio hierarchy or in the unified one, from /proc/self/cgroup. */
export function ownCgroup(version: 1 | 2, procSelfCgroup: string): string {
  for (const line of procSelfCgroup.split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (version === 2 && m[1] === "0" && m[2] === "") return m[3]!;
    if (version === 1 && m[2]!.split(",").includes("blkio")) return m[3]!;
  }
  return "/";
}

export class CgroupThrottle implements ThrottleMechanism {
  readonly name: "cgroup-v1" | "cgroup-v2";
  private readonly fs: CgroupFs;

  constructor(private readonly o: CgroupThrottleOptions) {
    this.name = o.version === 1 ? "cgroup-v1" : "cgroup-v2";
    this.fs = o.fs ?? realCgroupFs;
  }

  /** The control file and the line that limits writes to one device. */
  limitLine(t: ThrottleTarget): { file: string; line: string } {
    return this.o.version === 1
      ? { file: "blkio.throttle.write_bps_device", line: `${t.majMin} ${t.limitBytesPerSec}` }
      : { file: "io.max", line: `${t.majMin} wbps=${t.limitBytesPerSec}` };
  }

  async start(t: ThrottleTarget): Promise<ThrottleSession> {
    this.sweep();
    // v2: a child gets the io files only once its parent hands the controller down.
    if (this.o.version === 2) this.enableIo();
    const dir = join(this.o.root, t.name);
    const { file, line } = this.limitLine(t);
    this.fs.mkdir(dir);
    live.add(dir);
    try {
      this.fs.write(join(dir, file), line);
    } catch (err) {
      this.removeQuietly(dir);
      live.delete(dir);
      throw new OperationFailed(
        `cannot set ${file} of ${dir} to '${line}': ${(err as Error).message}`,
        "farmd must run as root on a host whose kernel has the block I/O throttle (CONFIG_BLK_DEV_THROTTLING)",
      );
    }
    const self = ownCgroup(
      this.o.version,
      this.o.self?.() ?? fs.readFileSync("/proc/self/cgroup", "utf8"),
    );
    // v1 moves one thread (tasks); v2 domain cgroups take whole processes only
    const member = this.o.version === 1 ? "tasks" : "cgroup.procs";
    const home = join(this.o.root, self, member);
    return new CgroupSession(this.fs, this.name, dir, t, file, {
      member,
      home,
      written: this.o.written,
    });
  }

  private enableIo(): void {
    const ctl = join(this.o.root, "cgroup.subtree_control");
    if (!this.fs.read(ctl).split(/\s+/).includes("io")) this.fs.write(ctl, "+io");
  }

  // A farmd killed mid-copy leaves its empty cgroup behind: cgroupfs refuses to remove a busy one.
  private sweep(): void {
    for (const name of this.fs.list(this.o.root)) {
      const dir = join(this.o.root, name);
      if (name.startsWith(CGROUP_PREFIX) && !live.has(dir)) this.removeQuietly(dir);
    }
  }

  private removeQuietly(dir: string): void {
    try {
      this.fs.rmdir(dir);
    } catch {
      // busy: another copy runs in it
    }
  }
}

class CgroupSession implements ThrottleSession {
  readonly info;
  private attachError: Error | null = null;
  private released = false;
  private bornInside = false;

  constructor(
    private readonly fs: CgroupFs,
    mechanism: "cgroup-v1" | "cgroup-v2",
    private readonly dir: string,
    t: ThrottleTarget,
    file: string,
    private readonly o: { member: string; home: string; written?: WrittenBytes },
  ) {
    this.info = {
      limitBytesPerSec: t.limitBytesPerSec,
      mechanism,
      detail: `${file} '${t.majMin}' (${t.device}) in ${dir}`,
      unthrottledBytes: null as number | null,
    };
  }

  around<T>(spawn: () => T): T {
    try {
      // process.pid is also the main thread's id, the thread libuv forks from
      this.fs.write(join(this.dir, this.o.member), String(process.pid));
    } catch {
      return spawn(); // attach moves dd after the fork instead
    }
    try {
      const child = spawn();
      this.bornInside = true;
      return child;
    } finally {
      this.fs.write(this.o.home, String(process.pid));
    }
  }

  attach(pid: number): void {
    if (this.bornInside) {
      this.info.unthrottledBytes = 0;
      this.info.detail += ", dd forked inside it";
      return;
    }
    try {
      this.fs.write(join(this.dir, "cgroup.procs"), String(pid));
      this.info.unthrottledBytes = this.o.written?.(pid) ?? null;
      this.info.detail += ", dd moved in after its fork";
    } catch (err) {
      this.attachError = err as Error;
    }
  }

  async ready(): Promise<void> {
    if (this.attachError) {
      throw new OperationFailed(
        `cannot move dd into ${this.dir}: ${this.attachError.message}`,
        "check that farmd runs as root and that the cgroup is writable",
      );
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    // dd has been reaped by now (the runner awaited it), so the cgroup is empty.
    this.fs.rmdir(this.dir);
    live.delete(this.dir);
    this.released = true;
  }
}
