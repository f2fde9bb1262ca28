// Where systemd manages the cgroups: dd in a transient scope with IOWriteBandwidthMax, over D-Bus.
import { Variant } from "dbus-next";
import { managerJob, type SystemdOptions } from "../systemd.js";
import type { ThrottleMechanism, ThrottleSession, ThrottleTarget, WrittenBytes } from "./types.js";

export interface ScopeOptions {
  systemd?: SystemdOptions;
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  written?: WrittenBytes;
}

/** StartTransientUnit's arguments: name, mode, properties a(sv), auxiliary units a(sa(sv)). */
export function scopeCall(t: ThrottleTarget, pid: number): [string, string, unknown[], unknown[]] {
  return [
    `${t.name}.scope`,
    "fail",
    [
      ["Description", new Variant("s", `farmd copy onto ${t.device}`)],
      ["PIDs", new Variant("au", [pid])],
      ["IOWriteBandwidthMax", new Variant("a(st)", [[t.device, BigInt(t.limitBytesPerSec)]])],
      // gone as soon as dd is, even when it failed
      ["CollectMode", new Variant("s", "inactive-or-failed")],
    ],
    [],
  ];
}

export class SystemdScopeThrottle implements ThrottleMechanism {
  readonly name = "systemd" as const;
  constructor(private readonly o: ScopeOptions = {}) {}

  async start(t: ThrottleTarget): Promise<ThrottleSession> {
    return new ScopeSession(t, this.o);
  }
}

class ScopeSession implements ThrottleSession {
  readonly info;
  private started: Promise<void> = Promise.resolve();
  private readonly kill: (pid: number, signal: NodeJS.Signals) => void;

  constructor(
    private readonly t: ThrottleTarget,
    private readonly o: ScopeOptions,
  ) {
    this.kill = o.kill ?? ((pid, sig) => process.kill(pid, sig));
    this.info = {
      limitBytesPerSec: t.limitBytesPerSec,
      mechanism: "systemd" as const,
      detail: `transient unit ${t.name}.scope, IOWriteBandwidthMax=${t.device} ${t.limitBytesPerSec}`,
      unthrottledBytes: null as number | null,
    };
  }

  // The scope takes dd only after a D-Bus round trip: dd is stopped until then.
  attach(pid: number): void {
    try {
      this.kill(pid, "SIGSTOP");
    } catch {
      return; // dd already exited: nothing to throttle
    }
    this.info.unthrottledBytes = this.o.written?.(pid) ?? null;
    const [unit, ...rest] = scopeCall(this.t, pid);
    this.started = managerJob(
      { unit, method: "StartTransientUnit", verb: "start" },
      "ssa(sv)a(sa(sv))",
      [unit, ...rest],
      this.o.systemd,
    ).finally(() => {
      try {
        this.kill(pid, "SIGCONT");
      } catch {
        // killed meanwhile (cancel)
      }
    });
  }

  ready(): Promise<void> {
    return this.started;
  }

  // systemd stops a scope once its last process exited, and collects it (CollectMode).
  async release(): Promise<void> {
    await this.started.catch(() => {});
  }
}
