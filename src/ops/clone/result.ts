// What a clone reports when it ends: the facts its steps learnt, read from its context.
import type { CloneResult } from "../../api/clone.js";
import { stepTimes } from "../../api/step-times.js";
import type { CloneCtx } from "./steps.js";

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`clone result asked before ${what} was known`);
  return v;
};

export function cloneResult(ctx: CloneCtx): CloneResult {
  const f = need(ctx.facts, "preflight");
  const a = need(ctx.alloc, "the allocation");
  return {
    opId: ctx.opId,
    name: f.target.name,
    group: f.target.group,
    instance: f.target.fqdn,
    ip: a.ip,
    mac: a.mac,
    sshPort: a.sshPort,
    webName: f.webName,
    memoryBytes: f.memoryBytes,
    balloonTargetBytes: f.balloonBytes,
    balloonReachedBytes: ctx.balloonReached ?? null,
    lv: ctx.adoptedLvName ?? ctx.targetLv?.name ?? null,
    lvUuid: ctx.targetLv?.uuid ?? null,
    diskBytes: f.source.sizeBytes,
    copy: ctx.copy ?? null,
    source: f.source.fqdn,
    guest: ctx.guest ?? null,
    expiresAt: ctx.expiresAt ?? null,
    warnings: ctx.warnings,
    ...timesOf(ctx),
  };
}

/** The steps' times from the journal, when the clone has one (a dry run's plan has not). */
function timesOf(ctx: CloneCtx): Pick<CloneResult, "steps"> {
  const steps = ctx.deps.journal?.steps(ctx.opId) ?? [];
  return steps.length ? { steps: stepTimes(steps) } : {};
}
