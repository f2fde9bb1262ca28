// A copy's write-rate limit: one mechanism per host, applied to dd from the moment it is spawned.
import type { CopyThrottle } from "../../api/events.js";

export type Mechanism = CopyThrottle["mechanism"];

/** What one copy throttles: the target device, its limit, and a name for the cgroup or unit. */
export interface ThrottleTarget {
  /** The target's device node (an LV's /dev/VG/LV); systemd takes the path. */
  device: string;
  /** Its MAJ:MIN (stat rdev), which the cgroup files take. */
  majMin: string;
  limitBytesPerSec: number;
  /** farmd-copy-<lv>-<stamp>: the cgroup directory, or the scope's name without ".scope". */
  name: string;
  /** The copy's cancel: a paced dd stopped by SIGSTOP must be continued to die. */
  signal?: AbortSignal;
}

/** One copy's throttle, made before dd is spawned and released after it ended. */
export interface ThrottleSession {
  readonly info: CopyThrottle;
  /**
   * Wraps the fork (synchronous): a cgroup session puts farmd's thread in the copy's cgroup for
   * it, so dd is born there and nothing it writes escapes the limit. Absent: attach only.
   */
  around?<T>(spawn: () => T): T;
  /**
   * Runs synchronously in the runner's onSpawn, in the same event-loop turn as the fork: dd can
   * have written little or nothing before it is held.
   */
  attach(pid: number): void;
  /** Settles once the throttle holds dd (systemd: once the scope's job is done). */
  ready(): Promise<void>;
  /** Removes what the session made; safe after a failure, a cancel, or twice. */
  release(): Promise<void>;
}

export interface ThrottleMechanism {
  readonly name: Mechanism;
  start(target: ThrottleTarget): Promise<ThrottleSession>;
}

/** The bytes a process wrote (write(2) calls, /proc/PID/io wchar), or null once it is gone. */
export type WrittenBytes = (pid: number) => number | null;
