// The clone's last steps: the guest's memory ballooned down, then the VM recorded as ready (with
// its lease, which starts when the clone succeeds).
import { expiryAfter } from "../inventory/lease.js";
import { balloonProgress } from "./balloon-progress.js";
import type { SagaStep } from "../saga.js";
import { need, type CloneCtx } from "./steps.js";

export function balloonStep(): SagaStep<CloneCtx> {
  return {
    name: "balloon",
    title: "balloon the memory down",
    async do(ctx) {
      const f = need(ctx.facts, "preflight");
      if (!f.start || ctx.deps.dryRun) return;
      const r = await ctx.deps.monitor.balloonAndWait(f.target.fqdn, f.balloonBytes, {
        timeoutMs: ctx.deps.config.balloon.timeout_ms,
        onProgress: balloonProgress(ctx.deps.events),
      });
      ctx.balloonReached = r.reachedBytes;
      if (r.warning) {
        ctx.warnings.push(r.warning);
        ctx.deps.events({ type: "warning", message: r.warning });
      }
      ctx.deps.inventory.update(f.target.name, { balloonBytes: r.reachedBytes });
    },
  };
}

export function recordStep(): SagaStep<CloneCtx> {
  return {
    name: "record",
    title: "record the VM in the inventory",
    async do(ctx, step) {
      // The lease starts when the clone succeeds, not when it was asked for.
      const { lease } = ctx.req;
      ctx.expiresAt = lease === undefined ? null : expiryAfter(lease, ctx.deps.config);
      step.record({ expiresAt: ctx.expiresAt });
      if (!ctx.deps.dryRun)
        ctx.deps.inventory.update(need(ctx.facts, "preflight").target.name, {
          state: "ready",
          expiresAt: ctx.expiresAt,
        });
    },
  };
}
