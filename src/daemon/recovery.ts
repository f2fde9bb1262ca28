// Operations left unfinished (a crash, a cancel): undone, or finished past their point of no
// return; and a new operation on a VM one of them is being recovered for waits its turn.
import { asFarmError, FarmError } from "../api/errors.js";
import type { EventSink } from "../api/events.js";
import { abortedBy, committedStep, rollback, runSaga } from "../ops/saga.js";
import type { Journal, OperationRecord } from "../state/journal.js";
import { kindOf, type Kind } from "./kinds.js";
import type { OperationDeps } from "./op-deps.js";
import type { Log } from "./operations.js";

/** The VMs an operation works on: its target, and a clone's source. */
function involvedNames(kind: string, params: Record<string, unknown>): string[] {
  // A farm operation names a farm, not a VM: its members' own operations are checked one by one.
  if (kind.startsWith("farm-")) return [];
  const names = [params.name, kind === "clone" ? params.source : undefined];
  return names.filter((n): n is string => typeof n === "string");
}

/** Undoes an unfinished operation, or finishes it if it passed its point of no return. */
export async function settleOperation(
  op: OperationRecord,
  journal: Journal,
  events: EventSink,
  deps: OperationDeps,
  why: string,
  stop?: AbortSignal,
): Promise<void> {
  const opId = op.id;
  const steps = journal.steps(opId);
  const kind = kindOf(op.kind);
  const ctx = kind.restore(opId, op.params, deps, steps);
  const run = { opId, journal, events };
  const committed = committedStep(steps);
  if (committed !== undefined) {
    events({ type: "info", message: `${why}: past its point of no return, finishing it` });
    await runSaga(kind.steps(), ctx, run, committed).catch(() => {}); // the journal has the outcome
  } else {
    events({ type: "info", message: `rolling back (${why})` });
    const last = Math.max(-1, ...steps.map((s) => s.seq));
    const errors = await rollback(kind.steps(), ctx, run, last, [], stop);
    if (stop?.aborted) {
      // Stopped mid-rollback: not failed, just unfinished; the next start takes it up again.
      events({ type: "info", message: `${why} stopped by farmd's stop; the next start goes on` });
      return;
    }
    journal.setOperationState(opId, errors.length ? "failed" : "rolled-back", {
      code: why,
      message: errors.join("; ") || why,
    });
  }
  events({ type: "end", opId, state: journal.operation(opId)!.state });
}

/** Refuses (75) an operation on a VM that a crashed operation is still being recovered for. */
export function refuseIfRecovering(
  journal: Journal,
  kindName: string,
  req: Record<string, unknown>,
): void {
  const mine = new Set(involvedNames(kindName, req));
  for (const op of journal.unfinished()) {
    if (op.state !== "recovering") continue;
    const shared = involvedNames(op.kind, op.params).find((n) => mine.has(n));
    if (shared)
      throw new FarmError(
        "recovering",
        `VM '${shared}' is being recovered after a crash (operation ${op.id}, ${op.kind})`,
        75,
        `run the command again once \`farmctl ops\` shows ${op.id} ended`,
      );
  }
}

/** The kind of an operation that can be resumed: interrupted, not running, not a farm's. */
export function resumableKind(op: OperationRecord, running: boolean): Kind<any, any> {
  if (op.state !== "interrupted" || running) {
    throw new FarmError(
      "not_resumable",
      `operation ${op.id} is ${op.state}; only an interrupted operation can be resumed`,
      65,
    );
  }
  const kind = kindOf(op.kind);
  if (kind.exclusive)
    throw new FarmError(
      "not_resumable",
      `operation ${op.id} is a ${op.kind}: a farm operation is run again, not resumed`,
      65,
      `cancel it (\`farmctl cancel ${op.id}\`), then run the farm command again: up creates only what is missing, down destroys only what is left`,
    );
  return kind;
}

/** Runs an interrupted operation again from its first step not done; its result. */
export function resumeSaga(
  kind: Kind<any, any>,
  op: OperationRecord,
  journal: Journal,
  events: EventSink,
  deps: OperationDeps,
  abort: AbortController,
): Promise<unknown> {
  const steps = journal.steps(op.id);
  const declared = kind.steps();
  const done = new Set(steps.filter((s) => s.state === "done").map((s) => s.seq));
  // The first step not done; those after it that are done (another branch) are not run again.
  const from = [...declared.keys()].find((seq) => !done.has(seq)) ?? declared.length;
  const ctx = kind.restore(op.id, op.params, deps, steps);
  journal.setOperationState(op.id, "running");
  events({ type: "info", message: `resuming at step ${from + 1}` });
  const run = {
    opId: op.id,
    journal,
    events,
    ...abortedBy(abort),
  };
  return runSaga(declared, ctx, run, from).then(() => kind.result(ctx));
}

/**
 * At start: the operations a crash left unfinished show as `recovering` at once, then are undone
 * (or finished) one by one in the background while the API answers; `done` settles when all are.
 * Each is in `running` meanwhile, so that farmd's stop ends the wait of those not yet begun.
 */
export function recoverCrashed(
  journal: Journal,
  running: Map<string, { abort: AbortController; done: Promise<void> }>,
  log: Log,
  settle: (opId: string, signal: AbortSignal) => Promise<void>,
): { ids: string[]; done: Promise<void> } {
  const crashed = journal.unfinished();
  for (const op of crashed) journal.setOperationState(op.id, "recovering");
  let chain = Promise.resolve();
  for (const op of crashed) {
    const abort = new AbortController();
    const done = chain.then(async () => {
      if (abort.signal.aborted) return; // farmd stopped before its turn: still recovering
      log("warning", `op ${op.id}: left unfinished by a crash; recovering it`);
      await settle(op.id, abort.signal).catch((err: unknown) =>
        log("error", `op ${op.id}: recovery failed: ${asFarmError(err).message}`),
      );
    });
    chain = done.finally(() => running.delete(op.id));
    running.set(op.id, { abort, done: chain });
  }
  return { ids: crashed.map((o) => o.id), done: chain };
}
