// A saga: steps run as a dependency graph with their progress journaled; on failure the steps that
// started are undone in reverse. Undos check before they act, so repeating one (after a crash) is safe.
import { asFarmError, EXIT, FarmError, OperationFailed } from "../api/errors.js";
import type { EventSink } from "../api/events.js";
import type { Journal } from "../state/journal.js";
import { RESTORED_NOT_RELOADED } from "../host/families/undo-reload.js";

export interface StepHandle {
  /** What earlier runs of this step recorded (empty on a first run). */
  readonly data: Record<string, unknown>;
  /** Persists facts the undo will need (an LV's UUID) before acting on them. */
  record(data: Record<string, unknown>): void;
  /** Marks the moment the step's host action returned, before its result is journaled (crash tests). */
  acted(): void;
}

/** Where a step can be cut short: just journaled as running, or its host action just returned. */
export type CrashPoint = "begin" | "acted";

export interface SagaStep<C> {
  name: string;
  title: string;
  /** Decides without changing the host (or changes it in one transaction that failed whole). */
  planning?: boolean;
  /** The steps (names, declared before it) that must be done first; absent: the one before it. */
  needs?: string[];
  do(ctx: C, step: StepHandle): Promise<void>;
  undo?(ctx: C, step: StepHandle): Promise<void>;
}

export interface SagaRun {
  opId: string;
  journal: Journal;
  events: EventSink;
  /** Aborted by `farmctl cancel` or SIGTERM: the running step stops, then everything is undone. */
  signal?: AbortSignal;
  /** Test hook (FARMD_TEST_CRASH_AT): called at each point of each step; may kill farmd. */
  crashAt?: (step: string, point: CrashPoint) => void;
  /** Aborts the operation's signal: a failed step stops the steps running in other branches. */
  abort?: (reason: FarmError) => void;
  /** One step at a time, in declaration order (a dry run's plan reads in a stable order). */
  sequential?: boolean;
}

/** The saga's view of an operation's AbortController: its signal, and abort for a failed branch. */
export function abortedBy(controller: AbortController): Pick<SagaRun, "signal" | "abort"> {
  return { signal: controller.signal, abort: (reason) => controller.abort(reason) };
}

/** Abort reason when farmd stops: the operation is left as it is, to resume or cancel later. */
export class Interrupted extends FarmError {
  constructor() {
    super(
      "interrupted",
      "interrupted: farmd is stopping",
      EXIT.tempFail,
      "resume it with `farmctl resume ID` or undo it with `farmctl cancel ID`",
    );
  }
}

export class Cancelled extends FarmError {
  constructor(reason: string) {
    super("cancelled", `cancelled: ${reason}`, EXIT.failed, "run the clone again when you want it");
  }
}

/** Why a step stopped: a step of another branch failed, and its failure is the operation's. */
export class BranchAborted extends FarmError {
  constructor(failed: { name: string }) {
    super(
      "branch_aborted",
      `stopped: step '${failed.name}' failed`,
      EXIT.failed,
      "see the failed step's error",
    );
  }
}

function handle(run: SagaRun, seq: number, name = ""): StepHandle & { hasActed: boolean } {
  const data: Record<string, unknown> = {
    ...(run.journal.steps(run.opId).find((s) => s.seq === seq)?.data ?? {}),
  };
  const h = {
    data,
    hasActed: false,
    record(more: Record<string, unknown>) {
      Object.assign(data, more);
      run.journal.record(run.opId, seq, more);
    },
    acted() {
      h.hasActed = true;
      run.crashAt?.(name, "acted");
    },
  };
  return h;
}

/**
 * The step that passed the operation's point of no return (it journaled `committed: true` before
 * acting, e.g. destroy before `gnt-instance remove`): from there on, cancel and crash recovery
 * finish the operation instead of undoing it.
 */
export function committedStep(steps: { seq: number; data: Record<string, unknown> }[]) {
  return steps.find((s) => s.data.committed === true)?.seq;
}

const isCommitted = (run: SagaRun) => committedStep(run.journal.steps(run.opId)) !== undefined;

/**
 * Runs the steps from `from` (0, or the step to resume at) to the end as a dependency graph: a step
 * starts once every step it needs is done, and steps whose needs are met run at once. Steps before
 * `from`, and those after it the journal shows done (a resumed graph), count as done. On the first
 * failure no step starts any more, the running ones are aborted (run.abort) and settle, then every
 * step that started is undone in reverse declaration order.
 */
export async function runSaga<C>(
  steps: SagaStep<C>[],
  ctx: C,
  run: SagaRun,
  from = 0,
): Promise<void> {
  const needs = needsOf(steps);
  const doneBefore = run.journal
    .steps(run.opId)
    .filter((s) => s.state === "done" && s.seq > from)
    .map((s) => s.seq);
  const done = new Set([...steps.keys()].filter((seq) => seq < from).concat(doneBefore));
  const running = new Map<number, Promise<void>>();
  const failures: { seq: number; error: FarmError }[] = [];
  const ready = (seq: number) =>
    !done.has(seq) && !running.has(seq) && needs[seq]!.every((n) => done.has(n));
  for (;;) {
    // A dry run plans in declaration order: one step at a time, its commands in a stable order.
    for (let seq = 0; seq < steps.length && !failures.length; seq++) {
      if (run.sequential && running.size) break;
      if (!ready(seq)) continue;
      const started = runStep(steps[seq]!, seq, ctx, run).then(
        () => void done.add(seq),
        (error: FarmError) => {
          failures.push({ seq, error });
          // The other branches stop at their next check; the copy's dd is killed.
          if (failures.length === 1 && running.size > 1)
            run.abort?.(new BranchAborted(steps[seq]!));
        },
      );
      running.set(
        seq,
        started.finally(() => running.delete(seq)),
      );
    }
    if (!running.size) break;
    await Promise.race(running.values());
  }
  if (failures.length) throw await failed(steps, ctx, run, failures);
  try {
    run.journal.setOperationState(run.opId, "succeeded");
  } catch (err) {
    // Done on the host but not recorded: undone, so that the host and the journal agree.
    throw await undoAll(steps, ctx, run, asFarmError(err), steps.at(-1)!);
  }
}

/** What each step needs, as seqs: its `needs` by name, else the step declared before it. */
export function needsOf<C>(steps: SagaStep<C>[]): number[][] {
  return steps.map((step, seq) => {
    if (!step.needs) return seq ? [seq - 1] : [];
    return step.needs.map((name) => {
      const at = steps.findIndex((s) => s.name === name);
      // Declaration order is the journal's seq order and must be a topological order.
      if (at < 0 || at >= seq)
        throw new Error(`saga step '${step.name}' needs '${name}', not declared before it`);
      return at;
    });
  });
}

/** Runs one step, journaled; rejects with the step's failure as a FarmError. */
async function runStep<C>(step: SagaStep<C>, seq: number, ctx: C, run: SagaRun): Promise<void> {
  const t0 = Date.now();
  // The journal writes are inside: one that fails (a full disk) fails the step, which is undone.
  try {
    run.journal.startStep(run.opId, seq, step.name);
    run.events({ type: "step-start", seq, step: step.name, title: step.title });
    run.crashAt?.(step.name, "begin");
    if (!isCommitted(run)) throwIfAborted(run.signal);
    const h = handle(run, seq, step.name);
    await step.do(ctx, h);
    // Steps without an inner point "acted" once do() returned, before they are marked done.
    if (!h.hasActed) h.acted();
    if (!isCommitted(run)) throwIfAborted(run.signal);
    run.journal.setStepState(run.opId, seq, "done");
  } catch (err) {
    const failure =
      run.signal?.aborted && !isCommitted(run) ? abortReason(run.signal) : asFarmError(err);
    bestEffort(run, () => run.journal.setStepState(run.opId, seq, "failed", failure.message));
    if (!(failure instanceof Interrupted)) {
      const details = failure.details ?? {};
      run.events({
        type: "step-failed",
        seq,
        step: step.name,
        error: failure.message,
        command: details.argv as string[] | undefined,
        stderr: details.stderr as string | undefined,
      });
    }
    throw failure;
  }
  run.events({ type: "step-done", seq, step: step.name, ms: Date.now() - t0 });
}

/** Every branch has settled after a failure: interrupted, refused, stuck or undone; the error. */
async function failed<C>(
  steps: SagaStep<C>[],
  ctx: C,
  run: SagaRun,
  failures: { seq: number; error: FarmError }[],
): Promise<FarmError> {
  // The first failure is the cause; the branches it aborted failed because of it.
  const first = failures.find((f) => !(f.error instanceof BranchAborted)) ?? failures[0]!;
  const { error: failure } = first;
  const step = steps[first.seq]!;
  // farmd is stopping: the operation is left as it is, to resume or cancel later.
  if (failure instanceof Interrupted) {
    bestEffort(run, () => run.journal.setOperationState(run.opId, "interrupted", failure.toJSON()));
    return failure;
  }
  // Nothing changed yet: the cause (bad input, name taken, tool missing) is the answer, with its own exit code.
  const started = run.journal.steps(run.opId).map((s) => s.seq);
  if (started.every((seq) => steps[seq]?.planning)) {
    bestEffort(run, () => run.journal.setOperationState(run.opId, "failed", failure.toJSON()));
    return failure;
  }
  // Past the point of no return an undo would not restore the host: say so, undo nothing.
  if (isCommitted(run)) {
    const stuck = new OperationFailed(
      `step '${step.name}' (${step.title}) failed past the point of no return: ${failure.message}; nothing was undone`,
      "run the same command again to finish it",
      { opId: run.opId, step: step.name, cause: failure.toJSON(), restored: false },
    );
    bestEffort(run, () => run.journal.setOperationState(run.opId, "failed", stuck.toJSON()));
    return stuck;
  }
  return undoAll(steps, ctx, run, failure, step);
}

/** Undoes every step that started, last first; records how that ended; returns the error to throw. */
async function undoAll<C>(
  steps: SagaStep<C>[],
  ctx: C,
  run: SagaRun,
  failure: FarmError,
  step: SagaStep<C>,
): Promise<FarmError> {
  const notes: string[] = [];
  const last = Math.max(-1, ...run.journal.steps(run.opId).map((s) => s.seq));
  const undoErrors = await rollback(steps, ctx, run, last, notes);
  bestEffort(run, () =>
    run.journal.setOperationState(
      run.opId,
      undoErrors.length ? "failed" : "rolled-back",
      failure.toJSON(),
    ),
  );
  return stepFailure(run.opId, step as SagaStep<unknown>, failure, undoErrors, notes);
}

/** A journal write on the way out of a failure: if it fails too (full disk), say so and go on. */
function bestEffort(run: SagaRun, write: () => void): void {
  try {
    write();
  } catch (err) {
    run.events({ type: "warning", message: `not journaled: ${asFarmError(err).message}` });
  }
}

function abortReason(signal: AbortSignal): FarmError {
  return signal.reason instanceof FarmError
    ? signal.reason
    : new Cancelled(String(signal.reason ?? "by request"));
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReason(signal);
}

/**
 * Undoes steps `lastSeq` down to 0, going on past an undo that fails; returns those failures.
 * An undo whose files are back but whose service did not reload counts as undone; `notes` gets it.
 */
export async function rollback<C>(
  steps: SagaStep<C>[],
  ctx: C,
  run: SagaRun,
  lastSeq: number,
  notes: string[] = [],
  stop?: AbortSignal,
): Promise<string[]> {
  const errors: string[] = [];
  const journaled = run.journal.steps(run.opId);
  const started = new Set(journaled.map((s) => s.seq));
  // A step still "running" in the journal was cut short by a farmd that is gone (crash recovery);
  // one without an undo (the copy) would otherwise stay "running" in a rolled-back operation.
  for (const s of journaled)
    if (s.state === "running")
      bestEffort(run, () =>
        run.journal.setStepState(
          run.opId,
          s.seq,
          "failed",
          "farmd stopped before this step finished",
        ),
      );
  const undone = new Set(journaled.filter((s) => s.state === "undone").map((s) => s.seq));
  for (let seq = lastSeq; seq >= 0; seq--) {
    // farmd is stopping: what is left stays journaled for the next start to undo.
    if (stop?.aborted) break;
    const step = steps[seq]!;
    // Undone by an earlier, interrupted recovery: nothing left of it.
    if (!step.undo || !started.has(seq) || undone.has(seq)) continue;
    run.events({ type: "undo-start", seq, step: step.name });
    bestEffort(run, () => run.journal.setStepState(run.opId, seq, "undoing"));
    try {
      await step.undo(ctx, handle(run, seq));
      bestEffort(run, () => run.journal.setStepState(run.opId, seq, "undone"));
      run.events({ type: "undo-done", seq, step: step.name });
    } catch (err) {
      const message = asFarmError(err).message;
      if (asFarmError(err).code === RESTORED_NOT_RELOADED) {
        notes.push(`${step.name}: ${message}`);
        bestEffort(run, () => run.journal.setStepState(run.opId, seq, "undone", message));
        run.events({ type: "warning", message: `undo of ${step.name}: ${message}` });
        run.events({ type: "undo-done", seq, step: step.name });
        continue;
      }
      errors.push(`${step.name}: ${message}`);
      bestEffort(run, () => run.journal.setStepState(run.opId, seq, "undo-failed", message));
      run.events({ type: "undo-failed", seq, step: step.name, error: message });
    }
  }
  return errors;
}

function stepFailure(
  opId: string,
  step: SagaStep<unknown>,
  cause: FarmError,
  undoErrors: string[],
  notes: string[] = [],
): FarmError {
  const restored = undoErrors.length === 0;
  return new OperationFailed(
    `step '${step.name}' (${step.title}) failed: ${cause.message}` +
      (restored
        ? "; every earlier step was undone and the host is as it was"
        : `; ROLLBACK INCOMPLETE: ${undoErrors.join("; ")}`) +
      (notes.length ? `; but ${notes.join("; ")}` : ""),
    cause.hint,
    { opId, step: step.name, cause: cause.toJSON(), undoErrors, restored, notes },
  );
}
