// The balloon wait's readings as events: one on each change of what the guest holds, and one every
// few seconds while nothing changes, so a client sees the wait is alive (the guest may still be booting).
import type { EventSink } from "../../api/events.js";
import type { BalloonReading } from "../ports.js";

/** While the reading does not change, an event at most this often (of the wait's own clock). */
export const BALLOON_HEARTBEAT_MS = 5_000;

export function balloonProgress(events: EventSink) {
  let last: { actual: number | null; at: number } | undefined;
  return (p: BalloonReading): void => {
    const changed = !last || last.actual !== p.actualBytes;
    if (!changed && p.elapsedMs - last!.at < BALLOON_HEARTBEAT_MS) return;
    last = { actual: p.actualBytes, at: p.elapsedMs };
    events({
      type: "balloon-progress",
      targetBytes: p.targetBytes,
      actualBytes: p.actualBytes,
      moved: p.actualBytes !== p.startBytes,
      elapsedMs: p.elapsedMs,
    });
  };
}
