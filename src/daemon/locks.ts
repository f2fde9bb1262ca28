// In-daemon locks: config-file families and Ganeti adds are edited one operation at a time, while
// copies run in parallel up to a limit.
import type { CopyPort, EntryFamily, Families, GanetiPort } from "../ops/ports.js";
import { wrapMethods } from "../host/families/wrap-methods.js";

export class Semaphore {
  private waiting: (() => void)[] = [];
  private free: number;

  constructor(slots: number) {
    this.free = slots;
  }

  /** True when a new run would have to wait. */
  busy(): boolean {
    return this.free === 0;
  }

  /** Runs `fn` in a slot; `signal` (cancel, farmd stopping) ends a wait for a slot at once. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Takes a slot until the returned release is called (once; a second call does nothing). */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await this.turn(signal);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    };
  }

  /** Waits for a slot handed over by a finishing run; leaves the queue if `signal` aborts first. */
  private turn(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const go = () => {
        signal?.removeEventListener("abort", leave);
        resolve();
      };
      const leave = () => {
        this.waiting.splice(this.waiting.indexOf(go), 1);
        reject(abortError(signal!));
      };
      this.waiting.push(go);
      signal?.addEventListener("abort", leave, { once: true });
    });
  }
}

/** The abort's reason as an error (the saga turns an aborted step into cancelled or interrupted). */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`cancelled: ${String(reason)}`);
}

export class Mutex extends Semaphore {
  constructor() {
    super(1);
  }
}

export interface HostLocks {
  dns: Mutex;
  dhcp: Mutex;
  firewall: Mutex;
  proxy: Mutex;
  ganeti: Mutex;
  copies: Semaphore;
  /** libguestfs appliances at once ([guest] parallel): each costs ~1 GiB and a CPU. */
  guests: Semaphore;
}

export function hostLocks(parallelCopies: number, parallelGuests = 1): HostLocks {
  return {
    dns: new Mutex(),
    dhcp: new Mutex(),
    firewall: new Mutex(),
    proxy: new Mutex(),
    ganeti: new Mutex(),
    copies: new Semaphore(parallelCopies),
    guests: new Semaphore(parallelGuests),
  };
}

/** Each read-modify-write of a family's files happens under that family's lock. */
function lockedFamily<F extends EntryFamily>(family: F, lock: Mutex): F {
  return wrapMethods(family, EDITS, (call) => lock.run(call));
}

const EDITS = new Set(["add", "remove", "revert", "restore", "adopt", "unadopt"]);

export function lockedFamilies(f: Families, locks: HostLocks): Families {
  return {
    dns: lockedFamily(f.dns, locks.dns),
    dhcp: lockedFamily(f.dhcp, locks.dhcp),
    firewall: lockedFamily(f.firewall, locks.firewall),
    proxy: lockedFamily(f.proxy, locks.proxy),
  };
}

/** Ganeti checks names and MACs at add: two adds at once could both pass the checks. */
export function lockedGaneti(g: GanetiPort, lock: Mutex): GanetiPort {
  return {
    listInstances: () => g.listInstances(),
    instanceTags: () => g.instanceTags(),
    instanceDisks: (fqdn) => g.instanceDisks(fqdn),
    disksOf: (instances) => g.disksOf(instances),
    volumes: () => g.volumes(),
    add: (p, onJob) => lock.run(() => g.add(p, onJob)),
    start: (fqdn) => g.start(fqdn),
    setMemory: (fqdn, memory) => g.setMemory(fqdn, memory),
    shutdown: (fqdn, timeoutSec) => g.shutdown(fqdn, timeoutSec),
    remove: (fqdn, onJob) => lock.run(() => g.remove(fqdn, onJob)),
    waitJob: (jobId) => g.waitJob(jobId),
    unfinishedJob: (op, fqdn) => g.unfinishedJob(op, fqdn),
  };
}

/**
 * At most `slots` copies at once; `queued(true)` while one waits its turn, `queued(false)` once it
 * runs. The copy's signal also ends its wait: a queued clone is cancelled at once.
 */
export function limitedCopier(
  c: CopyPort,
  slots: Semaphore,
  queued: (waiting: boolean) => void = () => {},
): CopyPort {
  return {
    copy: (...args) => {
      if (slots.busy()) queued(true);
      return slots.run(() => {
        queued(false);
        return c.copy(...args);
      }, args[4]);
    },
  };
}
