// Which operation states are still in flight: anything not final owns what it made on the host.

/** Not final: the operation may still act, or be resumed, recovered or cancelled. */
export const LIVE_STATES = ["queued", "running", "interrupted", "recovering"] as const;

export function isLive(state: string): boolean {
  return (LIVE_STATES as readonly string[]).includes(state);
}
