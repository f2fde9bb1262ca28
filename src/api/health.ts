// GET /v1/health: farmd answers, its version and API version, and whether libguestfs' appliance is ready for the customize step.

export interface GuestfsHealth {
  /** off: not built (yet, or not needed); building: farmd's start-time build runs. */
  state: "off" | "building" | "ready" | "unavailable";
  /** Where it was built, or what is missing and the fix. */
  detail: string | null;
  /** How long the build (or the check of a cached one) took. */
  seconds: number | null;
}

export interface Health {
  ok: boolean;
  pid: number;
  /** farmd's package version, "0.1.0". */
  version: string;
  /** The API it speaks (API_VERSION); a farmctl of another one says so instead of misreading. */
  apiVersion: number;
  guestfs: GuestfsHealth;
}
