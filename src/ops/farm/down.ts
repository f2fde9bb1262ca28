// `farm down NAME`: from the farm's record alone (no spec). Its members, newest in spec order
// first, two at a time, each as a child destroy; only a VM that both the inventory and its Ganeti
// tags call the farm's is touched; a protected one needs --force; a failure does not stop the
// others; the farm's record goes once no member is left.
import type { FarmDownRequest } from "../../api/farm.js";
import type { FarmRunResult, MemberOutcome } from "../../api/farm.js";
import { BadInput, NotFound } from "../../api/errors.js";
import type { RecordedMember } from "./plan.js";
import { checkLabel } from "../names.js";
import type { SagaStep } from "../saga.js";
import { farmDeps, type OpDeps } from "./deps.js";
import { nameHolders } from "./holders.js";
import {
  announce,
  DESTROY_PARALLEL,
  inOrder,
  outcome,
  startDestroy,
  type MemberRef,
} from "./members.js";
import { ownership } from "./ownership.js";
import { confirmNeeded } from "./up.js";

export interface FarmDownCtx {
  opId: string;
  req: FarmDownRequest;
  deps: OpDeps;
  /** In the order they go down; `refused` says why one is left alone. */
  targets?: (MemberRef & { refused: string | null })[];
  outcomes?: MemberOutcome[];
}

export function checkDown(req: FarmDownRequest): void {
  checkLabel(req.name, "farm name");
}

/** The members in reverse spec order; members the recorded spec no longer has go first. */
function downOrder(members: RecordedMember[], order: string[]): RecordedMember[] {
  const rank = (m: RecordedMember) => {
    const i = order.indexOf(m.member);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...members].sort((a, b) => rank(b) - rank(a) || (a.member < b.member ? -1 : 1));
}

export function farmDownSteps(): SagaStep<FarmDownCtx>[] {
  return [
    {
      name: "preflight",
      title: "find the farm's members, whose they are, and which are protected",
      planning: true,
      async do(ctx, step) {
        const { req, deps } = ctx;
        const record = deps.farms?.get(req.name) ?? null;
        const all = deps.inventory.members(req.name);
        if (!record && !all.length)
          throw new NotFound(`no farm '${req.name}'`, "`farmctl farm list` shows the farms");
        const platforms = new Set(all.map((m) => m.spec.platform).filter((p) => p !== null));
        if (req.platform !== null && !platforms.has(req.platform))
          throw new BadInput(
            `--platform ${req.platform}: no member of farm '${req.name}' has that platform`,
            platforms.size
              ? `use one of ${[...platforms].sort().join(", ")}, or leave --platform empty for all`
              : "leave --platform and FARM_PLATFORM empty",
            { field: "platform" },
          );
        const members = all.filter(
          (m) => req.platform === null || m.spec.platform === req.platform,
        );
        const order = record?.spec?.members.map((m) => m.key) ?? [];
        const holders = await nameHolders(
          deps,
          members.map((m) => m.name),
        );
        const targets = downOrder(members, order).map((m) => {
          const own = ownership(holders.get(m.name), m.name, req.name, m.member, true);
          const refused =
            own.kind === "foreign"
              ? own.reason
              : m.spec.protect && !req.force
                ? `${m.name} is protected (protect = true): \`farm down --force\` destroys it`
                : null;
          return { member: m.member, name: m.name, action: "destroy" as const, refused };
        });
        const doomed = targets.filter((t) => !t.refused);
        if (doomed.length && !req.yes)
          throw confirmNeeded(
            req.name,
            doomed.map((t) => ({ action: "destroy" as const, member: t.member, name: t.name })),
            "farm down",
          );
        ctx.targets = targets;
        step.record({ targets });
      },
    },
    {
      name: "members",
      title: "destroy the members, two at a time",
      async do(ctx, step) {
        const deps = farmDeps(ctx.deps);
        const run = { opId: ctx.opId, deps, signal: deps.signal };
        ctx.outcomes = await inOrder(ctx.targets ?? [], DESTROY_PARALLEL, async (t) => {
          const ref = { member: t.member, name: t.name, action: t.action };
          const { done } =
            t.refused !== null
              ? { done: Promise.resolve(outcome(ref, "refused", null, t.refused)) }
              : run.signal?.aborted
                ? { done: Promise.resolve(outcome(ref, "skipped", null, "cancelled")) }
                : await startDestroy(run, ref);
          return { done: done.then((o) => (announce(run, o), o)) };
        });
        step.record({ outcomes: ctx.outcomes });
        if (!deps.inventory.members(ctx.req.name).length) deps.farms.delete(ctx.req.name);
      },
    },
  ];
}

export function farmDownResult(ctx: FarmDownCtx): FarmRunResult {
  return { farm: ctx.req.name, opId: ctx.opId, members: ctx.outcomes ?? [] };
}

/** A dry run's answer: each member in the order it would go, refused ones with their reason. */
export function plannedDown(ctx: FarmDownCtx): FarmRunResult {
  return {
    farm: ctx.req.name,
    opId: "",
    members: (ctx.targets ?? []).map((t) =>
      outcome(t, t.refused ? "refused" : "skipped", null, t.refused),
    ),
  };
}
