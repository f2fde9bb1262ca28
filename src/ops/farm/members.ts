// A member's work as child operations of the farm operation: each child's events are forwarded
// tagged with the member, and the member's start and end are announced as `member` events.
import type { DestroyRequest } from "../../api/destroy.js";
import type { CloneResult } from "../../api/clone.js";
import type { MemberOutcome } from "../../api/farm.js";
import { asFarmError } from "../../api/errors.js";
import { Interrupted } from "../saga.js";
import type { ChildEnd, FarmDeps } from "./deps.js";

export interface MemberRef {
  member: string;
  name: string;
  action: MemberOutcome["action"];
}

/** What a farm operation's members share: its id, adapters and stop signal. */
export interface FarmRun {
  opId: string;
  deps: FarmDeps;
  signal?: AbortSignal;
  /** Journals facts in the farm operation's running step (an update's undo data). */
  record?: (data: Record<string, unknown>) => void;
}

/** A member's `member` event: started (with its child's id, if it has one), or how it ended. */
export function announce(
  run: FarmRun,
  o: MemberOutcome | (MemberRef & { opId: string | null }),
): void {
  const status = "status" in o ? o.status : "started";
  const error = "error" in o && o.error ? { error: o.error } : {};
  const note = "note" in o && o.note ? { note: o.note } : {};
  run.deps.events({
    type: "member",
    member: o.member,
    name: o.name,
    action: o.action,
    status,
    opId: o.opId,
    ...error,
    ...note,
  });
}

export function outcome(
  ref: MemberRef,
  status: MemberOutcome["status"],
  opId: string | null = null,
  error: string | null = null,
): MemberOutcome {
  return { ...ref, status, opId, error };
}

/** A started child: its id, and its end once it comes. */
export interface Started {
  opId: string;
  end: Promise<ChildEnd>;
}

/**
 * Starts a child operation for the member; resolves once it is admitted (or throws its refusal).
 */
export async function startChild(
  run: FarmRun,
  ref: MemberRef,
  kind: "clone" | "destroy",
  req: object,
  /** Called at the child's first failed step, before its rollback: on_error = stop acts at once. */
  onFailing: () => void = () => {},
): Promise<Started> {
  const { children, events } = run.deps;
  let announced = false;
  const opId = await children.start(kind, req, run.opId, (id, event) => {
    if (!announced) {
      announced = true;
      announce(run, { ...ref, opId: id });
    }
    events({ type: "member-event", member: ref.member, opId: id, event });
    if (event.type === "step-failed") onFailing();
  });
  // A cancel of the farm operation cancels the child; farmd's stop interrupts each on its own.
  const stop = () => {
    if (!(run.signal?.reason instanceof Interrupted)) children.cancel(opId);
  };
  run.signal?.addEventListener("abort", stop, { once: true });
  const end = children.wait(opId).finally(() => run.signal?.removeEventListener("abort", stop));
  return { opId, end };
}

/** The message of a child that did not succeed. */
export function childError(kind: string, opId: string, end: ChildEnd): string {
  const e = end.error;
  // The hint of a failed command is its stderr's last lines: what went wrong, in the tool's words.
  const why = e ? `: ${e.message}${e.hint ? `; ${e.hint.trim().split("\n").at(-1)}` : ""}` : "";
  return `${kind} ${opId} ${end.state}${why}`;
}

/** Starts a member's child destroy; resolves once it is admitted, with its outcome to come. */
export async function startDestroy(
  run: FarmRun,
  ref: MemberRef,
): Promise<{ done: Promise<MemberOutcome> }> {
  const req: DestroyRequest = { name: ref.name };
  let started: Started;
  try {
    started = await startChild(run, ref, "destroy", req);
  } catch (err) {
    return { done: Promise.resolve(outcome(ref, "failed", null, asFarmError(err).message)) };
  }
  const done = started.end.then((end) =>
    end.state === "succeeded"
      ? outcome(ref, "done", started.opId)
      : outcome(ref, "failed", started.opId, childError("destroy", started.opId, end)),
  );
  return { done };
}

export async function destroyMember(run: FarmRun, ref: MemberRef): Promise<MemberOutcome> {
  return (await startDestroy(run, ref)).done;
}

/** The clone's result, once its child ended well. */
export function cloneResultOf(end: ChildEnd): CloneResult | null {
  return end.state === "succeeded" ? (end.result as CloneResult) : null;
}

/** At most this many member destroys at once (`farm down`, atomic's undo): each stops a guest and edits the host's files. */
export const DESTROY_PARALLEL = 2;

/**
 * Starts `items` in their order, at most `limit` running at once: each is admitted before the
 * next starts (so their operations are journaled in that order); resolves with all their ends.
 */
export async function inOrder<T, R>(
  items: T[],
  limit: number,
  start: (item: T) => Promise<{ done: Promise<R> }>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  const running = new Set<Promise<void>>();
  for (const [i, item] of items.entries()) {
    while (running.size >= limit) await Promise.race(running);
    const { done } = await start(item);
    const settled: Promise<void> = done.then((r) => {
      out[i] = r;
      running.delete(settled);
    });
    running.add(settled);
  }
  await Promise.all(running);
  return out;
}
