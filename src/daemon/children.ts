// A farm operation's members run as operations of their own, under it: started through the same
// admission, followed to their end, cancelled with it.
import type { OpEvent } from "../api/events.js";
import type { ChildEnd, ChildOps } from "../ops/farm/deps.js";
import type { Journal } from "../state/journal.js";

export interface ChildHost {
  start: ChildOps["start"];
  /** Resolves once the operation's job ended (at once if it is not running). */
  ended(opId: string): Promise<void>;
  cancel(opId: string): Promise<void>;
  journal(): Journal;
}

export function childOps(host: ChildHost): ChildOps {
  return {
    start: host.start,
    wait: async (opId): Promise<ChildEnd> => {
      await host.ended(opId);
      const journal = host.journal();
      const end = journal
        .events(opId)
        .map((e) => e.event as OpEvent)
        .filter((e) => e.type === "end")
        .at(-1);
      const state = journal.operation(opId)?.state ?? "failed";
      return end?.type === "end" ? { ...end, state } : { state };
    },
    // The child's rollback is followed through its own events and end.
    cancel: (opId) => void host.cancel(opId).catch(() => {}),
  };
}
