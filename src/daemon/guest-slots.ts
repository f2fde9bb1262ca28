// libguestfs sessions limited like copies: at most [guest] parallel appliances at once (each costs
// ~1 GiB of RAM and a CPU for the session), after the start-time appliance build if one runs.
import type { GuestPort, GuestSession } from "../ops/ports.js";
import type { Appliance } from "./appliance.js";
import { abortError, type Semaphore } from "./locks.js";

/** What a session waits for before it opens; null once it runs. */
export type GuestWait = "appliance" | "slot" | null;

export interface GuestLimits {
  slots: Semaphore;
  appliance: Appliance;
  /** Cancel or farmd's stop: ends either wait at once. */
  signal?: AbortSignal;
  queued?: (waiting: GuestWait) => void;
}

/** Resolves when `p` does, or rejects as soon as `signal` aborts. */
function until(p: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const leave = () => reject(abortError(signal));
    signal.addEventListener("abort", leave, { once: true });
    void p.then(() => {
      signal.removeEventListener("abort", leave);
      resolve();
    });
  });
}

/** The slot is held from open to the session's close (or a failed open). */
export function limitedGuest(g: GuestPort, limits: GuestLimits): GuestPort {
  const { slots, appliance, signal, queued = () => {} } = limits;
  return {
    prepare: () => g.prepare(),
    open: async (device, onPid) => {
      // A second supermin beside the start-time one would build the same appliance twice.
      const build = appliance.building();
      if (build) {
        queued("appliance");
        await until(build, signal);
      }
      if (slots.busy()) queued("slot");
      const release = await slots.acquire(signal);
      queued(null);
      let session: GuestSession;
      try {
        session = await g.open(device, onPid);
      } catch (e) {
        release();
        throw e;
      }
      return {
        inspect: () => session.inspect(),
        readFile: (path) => session.readFile(path),
        apply: (edits) => session.apply(edits),
        close: () => session.close().finally(release),
      };
    },
  };
}
