// Fans an operation's events out to its followers: a listener that throws (a client gone, a bug)
// is dropped and logged, never thrown back into the operation that emitted the event.
import type { OpEvent } from "../api/events.js";
import type { Log } from "./operations.js";

export type Listener = (seq: number, event: OpEvent) => void;

export class EventHub {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** Last seq handed out per operation, for events the journal could not store (full disk). */
  private readonly lastSeq = new Map<string, number>();

  constructor(private readonly log: Log) {}

  subscribe(opId: string, listener: Listener): () => void {
    const set = this.listeners.get(opId) ?? new Set();
    set.add(listener);
    this.listeners.set(opId, set);
    return () => {
      set.delete(listener);
      if (!set.size && this.listeners.get(opId) === set) this.listeners.delete(opId);
    };
  }

  /** Stores the event with `store` (which may fail: the followers still get it), then fans it out. */
  publish(opId: string, event: OpEvent, store: () => number): number {
    let seq: number;
    try {
      seq = store();
    } catch (err) {
      seq = (this.lastSeq.get(opId) ?? 0) + 1;
      this.log("error", `op ${opId}: event not journaled: ${(err as Error).message}`);
    }
    this.lastSeq.set(opId, seq);
    for (const listener of [...(this.listeners.get(opId) ?? [])]) {
      try {
        listener(seq, event);
      } catch (err) {
        this.listeners.get(opId)?.delete(listener);
        this.log("error", `BUG: an event listener of op ${opId} threw: ${stackOf(err)}`);
      }
    }
    if (event.type === "end") this.lastSeq.delete(opId);
    return seq;
  }
}

export function stackOf(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
