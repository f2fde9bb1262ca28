// The lease reaper: every [leases] check_interval, farmd destroys the VMs whose lease ran out
// (clone --lease), as farmd's own journaled destroy operations; a protected farm member is kept.
import { FARMD } from "../api/auth.js";
import { asFarmError } from "../api/errors.js";
import type { OpEvent } from "../api/events.js";
import { formatDuration } from "../config/duration.js";
import { busyWith, leaseRanOut } from "../ops/inventory/lease.js";
import type { VmRecord } from "../state/inventory.js";
import { destroyKind } from "./kinds.js";
import type { Log, Operations } from "./operations.js";

export interface LeaseReaperOptions {
  ops: Pick<Operations, "start" | "inventory" | "journal">;
  intervalMs: number;
  log: Log;
}

/** Refusals that are no failure: a renew came first, or farmd is stopping. */
const NOT_FAILURES = new Set(["lease_renewed", "stopping"]);

export class LeaseReaper {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** VM → the lease end whose expiry was logged: one line per expiry, not one per round. */
  private readonly announced = new Map<string, string>();
  /** VM → why it was last left or failed: a retry that fails the same way is not logged again. */
  private readonly noted = new Map<string, string>();
  /** Rounds completed: what a test waits for instead of time. */
  rounds = 0;

  private inRound = false;

  constructor(private readonly o: LeaseReaperOptions) {}

  /** A round is running (it may still start a destroy). */
  get busy(): boolean {
    return this.inRound;
  }

  /** The first round at once (leases that ran out while farmd was down), then every interval. */
  start(): void {
    this.o.log("info", `leases: expired VMs are destroyed, checked every ${this.every}`);
    this.stopped = false;
    // Started again while a round still runs: that round schedules the next one.
    if (!this.inRound) this.schedule(0);
  }

  /** With farmd: no new round; a destroy already started is farmd's to interrupt, not waited for. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private get every(): string {
    return formatDuration(this.o.intervalMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.inRound = true;
      this.round()
        .catch((err: unknown) => {
          if (!this.stopped)
            this.note("", "round", `leases: a round failed: ${asFarmError(err).message}`);
        })
        .finally(() => {
          this.inRound = false;
          this.rounds++;
          this.schedule(this.o.intervalMs);
        });
    }, ms);
    // Never the reason the process stays up: the API server is.
    this.timer.unref();
  }

  /** One round: each VM whose lease ran out, in the order they ran out. */
  private async round(): Promise<void> {
    const now = Date.now();
    const due = this.o.ops.inventory.leased().filter((l) => leaseRanOut(l.vm.expiresAt, now));
    const names = new Set(due.map((l) => l.vm.name));
    // Renewed or gone: forget what was said about them.
    for (const map of [this.announced, this.noted])
      for (const name of map.keys()) if (name && !names.has(name)) map.delete(name);
    for (const { vm, protect } of due) {
      if (this.stopped) return;
      if (vm.state !== "ready") continue;
      if (protect) {
        this.note(
          vm.name,
          "protected",
          `VM ${vm.name}: its lease ran out at ${vm.expiresAt}, but farm ${vm.farm} protects member ${vm.member} (protect = true): not destroying it`,
        );
        continue;
      }
      const op = busyWith(this.o.ops.journal, vm.name);
      if (op) {
        // Being destroyed already: nothing to say; anything else holds it until it ends.
        if (!(op.kind === "destroy" && op.state === "running"))
          this.note(
            vm.name,
            `busy ${op.id}`,
            `VM ${vm.name}: its lease ran out at ${vm.expiresAt}; waiting for operation ${op.id} (${op.kind}, ${op.state}) before destroying it`,
          );
        continue;
      }
      await this.destroy(vm);
    }
  }

  private async destroy(vm: VmRecord): Promise<void> {
    const { name } = vm;
    const retry = `tried again every ${this.every}`;
    const ended = (opId: string, e: OpEvent) => {
      if (e.type === "end" && e.error)
        this.note(
          name,
          `failed ${e.error.code}: ${e.error.message}`,
          `VM ${name}: destroying it after its lease ran out failed (operation ${opId}): ${e.error.message}; ${retry}`,
        );
    };
    try {
      const opId = await this.o.ops.start(
        destroyKind,
        { name, expiredLease: true },
        { identity: FARMD, listener: ended },
      );
      if (this.announced.get(name) === vm.expiresAt) return;
      this.announced.set(name, vm.expiresAt!);
      this.o.log(
        "info",
        `VM ${name}: its lease ran out at ${vm.expiresAt}; destroying it (operation ${opId})`,
      );
    } catch (err) {
      const e = asFarmError(err);
      if (NOT_FAILURES.has(e.code) || this.stopped) return;
      this.note(
        name,
        `refused ${e.code}: ${e.message}`,
        `VM ${name}: its lease ran out at ${vm.expiresAt}, but farmd cannot destroy it: ${e.message}; ${retry}`,
      );
    }
  }

  /** Logs `line` unless the same reason was the last one logged for this VM. */
  private note(name: string, reason: string, line: string): void {
    if (this.noted.get(name) === reason) return;
    this.noted.set(name, reason);
    this.o.log(reason === "protected" || reason.startsWith("busy") ? "warning" : "error", line);
  }
}
