// `farm up --dry-run`: after the farm's checks, each member's own dry run, streamed as its
// member's events: a create's clone plan (at the address the checks allocated it), a replace's
// destroy plan, an update's changes. Nothing is changed or journaled.
import { asFarmError } from "../api/errors.js";
import type { OpEvent } from "../api/events.js";
import type { FarmRunResult } from "../api/farm.js";
import { memberClone } from "../ops/farm/member-clone.js";
import { plannedResult, type FarmUpCtx } from "../ops/farm/up.js";
import { cloneKind, destroyKind } from "./kinds.js";
import type { Operations } from "./operations.js";

export async function previewUp(
  ops: Operations,
  ctx: FarmUpCtx,
  write: (e: OpEvent) => void,
): Promise<FarmRunResult> {
  const farm = ctx.farm!;
  for (const a of ctx.plan!.actions) {
    const m = farm.members.find((x) => x.key === a.member);
    if (!m || ctx.problems?.some((p) => p.member === a.member)) continue;
    const tag = (event: OpEvent) =>
      write({ type: "member-event", member: a.member, opId: "", event });
    if (a.action === "create" || a.action === "replace" || a.action === "update")
      write({
        type: "member",
        member: a.member,
        name: a.name,
        action: a.action,
        status: "started",
        opId: null,
      });
    try {
      if (a.action === "create")
        await ops.plan(cloneKind, { ...memberClone(farm, m), ...ctx.picks?.[a.member] }, tag);
      else if (a.action === "replace") {
        await ops.plan(destroyKind, { name: a.name }, tag);
        tag({ type: "info", message: `then ${a.name} is cloned again from ${m.source}` });
      } else if (a.action === "update") {
        const changes = a.changes.map((c) => `${c.field}: ${String(c.from)} -> ${String(c.to)}`);
        tag({ type: "info", message: `updated in place: ${changes.join(", ")}` });
      }
    } catch (err) {
      tag({ type: "warning", message: asFarmError(err).message });
    }
  }
  return plannedResult(ctx);
}
