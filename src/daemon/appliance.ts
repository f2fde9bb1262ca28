// The libguestfs appliance, built once at farmd start (in the background) so the first clone does
// not pay for it; its state is GET /v1/health's `guestfs`, and a customize step waits for a build
// under way instead of starting a second one beside it.
import type { GuestfsHealth } from "../api/health.js";
import { asFarmError } from "../api/errors.js";
import type { GuestPort } from "../ops/ports.js";
import type { Log } from "./operations.js";

export interface ApplianceOptions {
  /** Absent: this farmd has no libguestfs adapter. */
  guest?: GuestPort;
  cacheDir: string;
  /** False when [guest] customize is empty: no clone needs the appliance. */
  wanted: boolean;
  log: Log;
}

/** An error as one line: its message and the fix it names. */
function explain(err: unknown): string {
  const e = asFarmError(err);
  const hint = e.hint ? `; fix: ${e.hint}` : "";
  return `${e.message}${hint}`.replace(/\s*\n\s*/g, " | ");
}

export class Appliance {
  private state: GuestfsHealth;
  private build: Promise<void> | null = null;
  private readonly stopping = new AbortController();

  constructor(private readonly o: ApplianceOptions) {
    this.state = o.wanted
      ? { state: "off", detail: "not built yet: the first customize step builds it", seconds: null }
      : { state: "off", detail: "[guest] customize is empty", seconds: null };
  }

  /** Starts the build in the background; never throws (a failure is logged and reported). */
  start(): void {
    if (!this.o.wanted || this.build) return;
    const { guest, cacheDir, log } = this.o;
    if (!guest) {
      this.state = { state: "unavailable", detail: "no libguestfs adapter", seconds: null };
      return;
    }
    this.state = { state: "building", detail: `building into ${cacheDir}`, seconds: null };
    this.build = guest
      // A cached appliance is not booted here: each session's launch checks it anyway.
      .prepare({ reuse: true, signal: this.stopping.signal })
      .then(
        ({ ms, cached }) => {
          const seconds = Math.round(ms / 100) / 10;
          const detail = cached
            ? `found in ${cacheDir} (supermin rebuilds it at a launch if the host's packages changed)`
            : `built in ${cacheDir}`;
          this.state = { state: "ready", detail, seconds };
          log("info", `guestfs appliance ready in ${seconds.toFixed(1)} s (cache ${cacheDir})`);
        },
        (err: unknown) => {
          if (this.stopping.signal.aborted) {
            this.state = {
              state: "off",
              detail: "farmd stopped before the build ended",
              seconds: null,
            };
            return log("info", "guestfs appliance build stopped with farmd");
          }
          const detail = explain(err);
          this.state = { state: "unavailable", detail, seconds: null };
          log("warning", `guestfs appliance unavailable: ${detail}`);
        },
      )
      .finally(() => (this.build = null));
  }

  /** farmd stopping: kills the build's guestfish and waits for it to end. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.build;
  }

  /** The build under way, if any: it settles (never rejects) when the build ends either way. */
  building(): Promise<void> | null {
    return this.build;
  }

  health(): GuestfsHealth {
    return { ...this.state };
  }
}
