// Admission: an operation's preflight runs before the operation exists, so a refusal before anything
// changed is an answer (HTTP 4xx, exit 65, ...), not a failed operation in `farmctl ops`.
import type { EventSink, OpEvent } from "../api/events.js";
import type { SagaRun, SagaStep } from "../ops/saga.js";

/** Events emitted during the preflight are held until it passes, then go to the operation. */
export class HeldEvents {
  private readonly held: OpEvent[] = [];
  private target?: EventSink;
  readonly sink: EventSink = (e) => (this.target ? this.target(e) : void this.held.push(e));

  release(target: EventSink): void {
    this.target = target;
    for (const e of this.held.splice(0)) target(e);
  }
}

export interface Admitted {
  /** What the preflight recorded, journaled as its step's data once the operation exists. */
  data: Record<string, unknown>;
  ms: number;
}

/**
 * Runs the kind's first step, its read-only preflight; throws its refusal. A kind without one
 * (audit --fix: its checks are its work) is admitted as it is.
 */
export async function admit<C>(steps: SagaStep<C>[], ctx: C): Promise<Admitted | null> {
  const first = steps[0];
  if (first?.name !== "preflight" || !first.planning) return null;
  const t0 = Date.now();
  const data: Record<string, unknown> = {};
  await first.do(ctx, { data: {}, record: (more) => void Object.assign(data, more), acted() {} });
  return { data, ms: Date.now() - t0 };
}

/** Journals the admitted preflight as the operation's step 0 with its events; the saga goes on at 1. */
export function enter<C>(
  steps: SagaStep<C>[],
  run: SagaRun,
  admitted: Admitted | null,
  held: HeldEvents,
): number {
  if (!admitted) {
    held.release(run.events);
    return 0;
  }
  const { name, title } = steps[0]!;
  run.journal.startStep(run.opId, 0, name);
  run.events({ type: "step-start", seq: 0, step: name, title });
  run.crashAt?.(name, "begin");
  run.journal.record(run.opId, 0, admitted.data);
  held.release(run.events);
  run.crashAt?.(name, "acted");
  run.journal.setStepState(run.opId, 0, "done");
  run.events({ type: "step-done", seq: 0, step: name, ms: admitted.ms });
  return 1;
}
