// What an operation would do, changing nothing: --dry-run's plan (the same saga with dry-run
// adapters and a throw-away journal) and a farm operation's preview (its read-only preflight).
import type { EventSink } from "../api/events.js";
import type { Config } from "../config/schema.js";
import { runSaga } from "../ops/saga.js";
import { openMemoryDb } from "../state/db.js";
import { Journal } from "../state/journal.js";
import { admit, enter, HeldEvents } from "./admit.js";
import type { Kind } from "./kinds.js";
import type { OperationDeps } from "./op-deps.js";

/** The plan's events go to `events`; a refusal is thrown before any event. */
export async function planOperation<Req extends object, Ctx extends { opId: string }>(
  kind: Kind<Req, Ctx>,
  req: Req,
  config: Config,
  deps: (sink: EventSink) => OperationDeps,
  events: EventSink,
): Promise<unknown> {
  kind.check(req, config);
  const held = new HeldEvents();
  const ctx = kind.ctx("", req, deps(held.sink));
  const steps = kind.steps();
  const admitted = await admit(steps, ctx);
  const scratch = openMemoryDb();
  try {
    const journal = new Journal(scratch);
    const params = { ...req } as Record<string, unknown>;
    ctx.opId = journal.createOperation(kind.name, kind.target(req), params);
    const run = { opId: ctx.opId, journal, events, sequential: true };
    await runSaga(steps, ctx, run, enter(steps, run, admitted, held));
    return kind.result(ctx);
  } finally {
    scratch.close();
  }
}

/** A farm operation's preflight alone; its refusal is thrown. */
export async function previewOperation<Req extends object, Ctx extends { opId: string }>(
  kind: Kind<Req, Ctx>,
  req: Req,
  config: Config,
  deps: OperationDeps,
): Promise<Ctx> {
  kind.check(req, config);
  const ctx = kind.ctx("", req, deps);
  await admit(kind.steps(), ctx);
  return ctx;
}
