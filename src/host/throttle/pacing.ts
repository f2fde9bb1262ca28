// The fallback: farmd paces dd itself, stopping it (SIGSTOP) while it is ahead of the limit.
import { readFileSync } from "node:fs";
import type { ThrottleMechanism, ThrottleSession, ThrottleTarget, WrittenBytes } from "./types.js";

/** /proc/PID/io's wchar: the bytes dd handed to write(2); null once the process is gone. */
export const procWritten: WrittenBytes = (pid) => {
  try {
    const m = /^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
};

// dd runs free for up to one tick: at a disk's 100 MB/s a 10 ms tick lets 1 MB past the schedule
const TICK_MS = 10;

export interface PacingOptions {
  written?: WrittenBytes;
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  now?: () => number;
  /** How often the written bytes are compared with the schedule: the overshoot is about limit × tick. */
  tickMs?: number;
  /** Why no kernel mechanism is used, for the detail. */
  why?: string;
}

export class PacingThrottle implements ThrottleMechanism {
  readonly name = "pacing" as const;
  constructor(private readonly o: PacingOptions = {}) {}

  /** Why no kernel mechanism is used (farmctl doctor says it). */
  get why(): string | undefined {
    return this.o.why;
  }

  async start(t: ThrottleTarget): Promise<ThrottleSession> {
    return new PacingSession(t, this.o);
  }
}

export class PacingSession implements ThrottleSession {
  readonly info;
  private timer: NodeJS.Timeout | undefined;
  private pid = 0;
  private stopped = false;
  private readonly written: WrittenBytes;
  private readonly kill: (pid: number, signal: NodeJS.Signals) => void;
  private readonly now: () => number;

  constructor(
    private readonly t: ThrottleTarget,
    private readonly o: PacingOptions,
  ) {
    this.written = o.written ?? procWritten;
    this.kill = o.kill ?? ((pid, sig) => process.kill(pid, sig));
    this.now = o.now ?? Date.now;
    const tick = o.tickMs ?? TICK_MS;
    this.info = {
      limitBytesPerSec: t.limitBytesPerSec,
      mechanism: "pacing" as const,
      detail:
        `dd stopped and continued by farmd every ${tick} ms to keep its writes to ${t.device} on schedule` +
        (o.why ? ` (${o.why})` : ""),
      unthrottledBytes: 0 as number | null,
    };
  }

  attach(pid: number): void {
    this.pid = pid;
    const t0 = this.now();
    const limit = this.t.limitBytesPerSec;
    this.timer = setInterval(() => {
      const w = this.written(pid);
      if (w === null) return this.stopTimer();
      const ahead = w > (limit * (this.now() - t0)) / 1000;
      if (ahead !== this.stopped) this.signal(ahead ? "SIGSTOP" : "SIGCONT");
    }, this.o.tickMs ?? TICK_MS);
    // A cancel's SIGTERM must reach a running dd.
    this.t.signal?.addEventListener("abort", () => void this.release(), { once: true });
  }

  async ready(): Promise<void> {}

  async release(): Promise<void> {
    this.stopTimer();
    if (this.stopped) this.signal("SIGCONT");
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private signal(sig: NodeJS.Signals): void {
    try {
      this.kill(this.pid, sig);
      this.stopped = sig === "SIGSTOP";
    } catch {
      // dd is gone
      this.stopTimer();
    }
  }
}
