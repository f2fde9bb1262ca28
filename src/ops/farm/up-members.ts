// `farm up`'s members: started in spec order, all running at once (farmd's copy slots bound the
// copies; config edits and Ganeti adds stay serialized by its locks); on_error decides what a
// failure does to the others: continue, stop (no new member starts), atomic (this run's are undone).
import type {
  FarmAction,
  FarmRun as RunSpec,
  MemberOutcome,
  ResolvedFarm,
} from "../../api/farm.js";
import { asFarmError } from "../../api/errors.js";
import type { MemberProblem } from "./check-farm.js";
import { memberClone } from "./member-clone.js";
import {
  announce,
  DESTROY_PARALLEL,
  inOrder,
  startDestroy,
  childError,
  cloneResultOf,
  destroyMember,
  outcome,
  startChild,
  type FarmRun,
  type MemberRef,
  type Started,
} from "./members.js";
import { updateInPlace } from "./update.js";
import { waitForSsh } from "./wait.js";

export interface UpPlan {
  farm: ResolvedFarm;
  actions: FarmAction[];
  onError: RunSpec["onError"];
  prune: boolean;
  problems: MemberProblem[];
}

export async function upMembers(run: FarmRun, up: UpPlan): Promise<MemberOutcome[]> {
  const outcomes: MemberOutcome[] = new Array(up.actions.length);
  const working: Promise<void>[] = [];
  const clones = new Clones(run);
  let failed = false;
  const failing = () => {
    failed = true;
    if (up.onError === "stop") clones.stopQueued();
  };
  const settle = (i: number, o: MemberOutcome) => {
    const stopped = clones.stopped.has(o.opId ?? "");
    outcomes[i] = stopped ? { ...o, status: "skipped", error: STOPPED } : o;
    announce(run, outcomes[i]!);
    // Recorded as soon as it has a member: a crash later still leaves the farm to status and down.
    if (o.status === "done" && o.action !== "orphan") run.deps.farms.upsert(up.farm, run.opId);
    if (outcomes[i]!.status === "failed" || outcomes[i]!.status === "refused") failing();
  };
  for (const [i, a] of up.actions.entries()) {
    const ref: MemberRef = { member: a.member, name: a.name, action: a.action };
    const problem = up.problems.find((p) => p.member === a.member);
    if (problem) {
      settle(
        i,
        outcome(ref, a.action === "refuse" ? "refused" : "failed", null, problem.error.message),
      );
      continue;
    }
    // stop: no member starts after a failure (nor after a cancel); those running end as they will.
    if (run.signal?.aborted || (failed && up.onError === "stop")) {
      settle(i, outcome(ref, "skipped", null, run.signal?.aborted ? "cancelled" : STOPPED));
      continue;
    }
    const spec = up.farm.members.find((m) => m.key === a.member);
    if (a.action === "noop") settle(i, outcome(ref, "unchanged"));
    else if (a.action === "orphan" && !up.prune)
      settle(
        i,
        outcome(ref, "skipped", null, "no longer in the spec: `farm up --prune` destroys it"),
      );
    else if (a.action === "orphan") working.push(destroyMember(run, ref).then((o) => settle(i, o)));
    else if (a.action === "update" && spec)
      working.push(updateInPlace(run, ref, spec, up.farm).then((o) => settle(i, o)));
    else if ((a.action === "create" || a.action === "replace") && spec) {
      // In spec order: the next member starts once this one's first child operation exists.
      const { done } = await cloneMember(run, up, ref, clones, a.action === "replace", failing);
      working.push(done.then((o) => settle(i, o)));
    }
  }
  await Promise.all(working);
  if (failed && up.onError === "atomic") await undoCreated(run, outcomes);
  return outcomes;
}

const STOPPED = "an earlier member failed (on_error = stop)";

/** The member clones admitted so far; under stop, those still waiting for a copy slot are cancelled. */
class Clones {
  readonly running = new Set<string>();
  /** Cancelled by on_error = stop before their copy began: skipped, not failed. */
  readonly stopped = new Set<string>();

  constructor(private readonly run: FarmRun) {}

  stopQueued(): void {
    for (const opId of this.running) {
      if (this.run.deps.journal.operation(opId)?.state !== "queued") continue;
      this.stopped.add(opId);
      this.run.deps.children.cancel(opId);
    }
  }
}

/**
 * Clones the member (a replace destroys it first); resolves once its clone is admitted (a replace:
 * at once), with the member's outcome to come.
 */
async function cloneMember(
  run: FarmRun,
  up: UpPlan,
  ref: MemberRef,
  clones: Clones,
  replace: boolean,
  failing: () => void,
): Promise<{ done: Promise<MemberOutcome> }> {
  const spec = up.farm.members.find((m) => m.key === ref.member)!;
  const admit = async (): Promise<Started | MemberOutcome> => {
    try {
      const started = await startChild(run, ref, "clone", memberClone(up.farm, spec), failing);
      clones.running.add(started.opId);
      return started;
    } catch (err) {
      return outcome(ref, "failed", null, asFarmError(err).message);
    }
  };
  const finish = async (started: Started | MemberOutcome): Promise<MemberOutcome> => {
    if (!("end" in started)) return started;
    const end = await started.end;
    clones.running.delete(started.opId);
    const result = cloneResultOf(end);
    if (!result)
      return outcome(ref, "failed", started.opId, childError("clone", started.opId, end));
    if (run.signal?.aborted || !spec.start || up.farm.run.wait !== "ssh")
      return outcome(ref, "done", started.opId);
    const late = await waitForSsh(run, result, up.farm.run.waitTimeoutSec);
    return outcome(ref, late ? "failed" : "done", started.opId, late);
  };
  if (!replace) return { done: finish(await admit()) };
  const replaced = async (): Promise<MemberOutcome> => {
    const destroyed = await destroyMember(run, { ...ref, action: "destroy" });
    if (destroyed.status !== "done")
      return {
        ...destroyed,
        action: ref.action,
        error: `destroy before the replace: ${destroyed.error}`,
      };
    return finish(await admit());
  };
  return { done: replaced() };
}

/** atomic: the members this run cloned are destroyed again, last first, two at a time as `farm down`. */
async function undoCreated(run: FarmRun, outcomes: MemberOutcome[]): Promise<void> {
  const made = outcomes.filter(
    (o) => o.status === "done" && (o.action === "create" || o.action === "replace"),
  );
  run.deps.events({
    type: "info",
    message: `on_error = atomic: undoing the ${made.length} member(s) this run cloned`,
  });
  await inOrder(made.reverse(), DESTROY_PARALLEL, async (o) => {
    const ref = { member: o.member, name: o.name, action: "destroy" as const };
    const { done } = await startDestroy(run, ref);
    return {
      done: done.then((undo) => {
        const i = outcomes.indexOf(o);
        outcomes[i] =
          undo.status === "done"
            ? { ...o, status: "undone" }
            : { ...o, error: `undo (atomic) failed: ${undo.error}` };
        announce(run, outcomes[i]!);
      }),
    };
  });
}
