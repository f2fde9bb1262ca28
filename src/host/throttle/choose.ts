// Which throttle this host can enforce (systemd, cgroup v2, cgroup v1, pacing), and one copy's session.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { BadInput } from "../../api/errors.js";
import type { SystemdOptions } from "../systemd.js";
import { CGROUP_PREFIX, CgroupThrottle, realCgroupFs, type CgroupFs } from "./cgroup.js";
import { PacingSession, PacingThrottle, procWritten } from "./pacing.js";
import { SystemdScopeThrottle } from "./systemd-scope.js";
import type { ThrottleMechanism, ThrottleSession, ThrottleTarget, WrittenBytes } from "./types.js";

export interface HostPaths {
  /** Exists when systemd is PID 1 and manages the cgroups (sd_booted()). */
  systemdDir: string;
  mountinfo: string;
}

export const HOST_PATHS: HostPaths = {
  systemdDir: "/run/systemd/system",
  mountinfo: "/proc/self/mountinfo",
};

/** The cgroup hierarchies of /proc/self/mountinfo: the unified one, and v1's blkio one. */
export function cgroupMounts(mountinfo: string): { v2: string | null; blkio: string | null } {
  let v2: string | null = null;
  let blkio: string | null = null;
  for (const line of mountinfo.split("\n")) {
    const [left, right] = line.split(" - ");
    if (!left || !right) continue;
    const mountPoint = unescape(left.split(" ")[4] ?? "");
    const [fstype, , superOpts = ""] = right.split(" ");
    if (fstype === "cgroup2") v2 ??= mountPoint;
    if (fstype === "cgroup" && superOpts.split(",").includes("blkio")) blkio ??= mountPoint;
  }
  return { v2, blkio };
}

// mountinfo escapes space, tab, newline and backslash as octal
const unescape = (s: string): string =>
  s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export interface ChooseOptions {
  paths?: HostPaths;
  fs?: CgroupFs;
  systemd?: SystemdOptions;
  written?: WrittenBytes;
}

/** The first mechanism this host has, in the order systemd, cgroup v2 io, cgroup v1 blkio, pacing. */
export function chooseMechanism(o: ChooseOptions = {}): ThrottleMechanism {
  const paths = o.paths ?? HOST_PATHS;
  const fs = o.fs ?? realCgroupFs;
  const written = o.written ?? procWritten;
  // systemd owns the tree where it runs: cgroups made beside it would be moved or removed.
  if (existsSync(paths.systemdDir))
    return new SystemdScopeThrottle({ systemd: o.systemd, written });
  const { v2, blkio } = cgroupMounts(readFileSync(paths.mountinfo, "utf8"));
  const why: string[] = [`no systemd (${paths.systemdDir})`];
  if (v2) {
    const controllers = (readOr(fs, join(v2, "cgroup.controllers")) ?? "").split(/\s+/);
    if (controllers.includes("io"))
      return new CgroupThrottle({ version: 2, root: v2, fs, written });
    why.push(`the cgroup2 hierarchy at ${v2} has no io controller`);
  } else why.push("no cgroup2 hierarchy");
  if (blkio) {
    if (readOr(fs, join(blkio, "blkio.throttle.write_bps_device")) !== null)
      return new CgroupThrottle({ version: 1, root: blkio, fs, written });
    why.push(`the blkio hierarchy at ${blkio} has no throttle files`);
  } else why.push("no cgroup v1 blkio hierarchy");
  return new PacingThrottle({ why: why.join(", "), written });
}

function readOr(fs: CgroupFs, path: string): string | null {
  try {
    return fs.read(path);
  } catch {
    return null;
  }
}

/** A block device's MAJ:MIN, as the cgroup files want it (stat's rdev, Linux's encoding). */
export function deviceNumber(path: string): string {
  let st;
  try {
    st = statSync(path, { bigint: true });
  } catch (err) {
    throw new BadInput(`cannot throttle writes to ${path}: ${(err as Error).message}`);
  }
  if (!st.isBlockDevice())
    throw new BadInput(`cannot throttle writes to ${path}: not a block device`);
  const r = st.rdev;
  const major = ((r >> 8n) & 0xfffn) | ((r >> 32n) & ~0xfffn);
  const minor = (r & 0xffn) | ((r >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** Starts one copy's throttle with the host's mechanism; falls back to pacing if it fails. */
export class Throttler {
  private chosen: ThrottleMechanism | undefined;

  constructor(
    private readonly choose: () => ThrottleMechanism = () => chooseMechanism(),
    private readonly written: WrittenBytes = procWritten,
  ) {}

  /** The host's mechanism, probed once. */
  get mechanism(): ThrottleMechanism {
    return (this.chosen ??= this.choose());
  }

  async start(
    device: string,
    limitBytesPerSec: number,
    signal?: AbortSignal,
  ): Promise<ThrottleSession> {
    const target: ThrottleTarget = {
      device,
      majMin: "",
      limitBytesPerSec,
      name: `${CGROUP_PREFIX}${basename(device).replace(/[^A-Za-z0-9_.-]/g, "_")}-${Date.now().toString(36)}`,
      signal,
    };
    const pacing = (why: string) =>
      new PacingSession(target, { written: this.written, why: `${why}; paced instead` });
    try {
      target.majMin = deviceNumber(device);
      return new FallbackSession(await this.mechanism.start(target), pacing);
    } catch (err) {
      return pacing(`${this.mechanism.name} failed: ${(err as Error).message}`);
    }
  }
}

// A kernel or systemd throttle that could not take dd hands it to pacing: the limit still holds.
class FallbackSession implements ThrottleSession {
  private fallback: ThrottleSession | null = null;
  private pid = 0;

  constructor(
    private readonly primary: ThrottleSession,
    private readonly pacing: (why: string) => ThrottleSession,
  ) {}

  get info() {
    return (this.fallback ?? this.primary).info;
  }

  around<T>(spawn: () => T): T {
    return this.primary.around ? this.primary.around(spawn) : spawn();
  }

  attach(pid: number): void {
    this.pid = pid;
    this.primary.attach(pid);
  }

  async ready(): Promise<void> {
    try {
      await this.primary.ready();
    } catch (err) {
      this.fallback = this.pacing(
        `${this.primary.info.mechanism} failed: ${(err as Error).message}`,
      );
      this.fallback.attach(this.pid);
    }
  }

  async release(): Promise<void> {
    await this.fallback?.release();
    await this.primary.release();
  }
}
