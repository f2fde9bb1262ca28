// `farm up` as a saga of sagas: its preflight (admission) resolves and plans the farm, refuses a
// stale saved plan or an unconfirmed replace/destroy, and checks the whole farm before any copy;
// then the members run as child operations; then the farm's record is written.
import type { FarmUpRequest } from "../../api/farm.js";
import type {
  FarmAction,
  FarmPlan,
  FarmRunResult,
  MemberOutcome,
  ResolvedFarm,
} from "../../api/farm.js";
import { FarmError, OperationFailed } from "../../api/errors.js";
import type { SagaStep } from "../saga.js";
import { checkFarm, type FarmCheck, type MemberProblem } from "./check-farm.js";
import { farmDeps, type OpDeps } from "./deps.js";
import { nameHolders } from "./holders.js";
import { checkSavedPlan, planFarm } from "./plan.js";
import { resolveFarm } from "./resolve.js";
import { undoUnrecorded } from "./rerender.js";
import { upMembers } from "./up-members.js";

export interface FarmUpCtx {
  opId: string;
  req: FarmUpRequest;
  deps: OpDeps;
  farm?: ResolvedFarm;
  plan?: FarmPlan;
  problems?: MemberProblem[];
  /** What the checks allocated to each new member: a dry run's clones show those. */
  picks?: FarmCheck["picks"];
  outcomes?: MemberOutcome[];
}

/** The plan of POST /v1/farms/plan and of `up`: one function, so what plan shows is what up does. */
export async function planOf(
  farm: ResolvedFarm,
  platform: string | null,
  deps: OpDeps,
): Promise<FarmPlan> {
  const recorded = deps.inventory.members(farm.name);
  const names = [...farm.members.map((m) => m.name), ...recorded.map((r) => r.name)];
  return planFarm(farm, recorded, await nameHolders(deps, names), platform);
}

/** Actions that destroy a VM: asked for first (`yes`). */
export function destructive(plan: FarmPlan, prune: boolean): FarmAction[] {
  return plan.actions.filter((a) => a.action === "replace" || (prune && a.action === "orphan"));
}

/** 409 confirm_needed: what would be replaced or destroyed, as ConfirmNeeded lists it. */
export function confirmNeeded(
  farm: string,
  actions: { action: "replace" | "destroy"; member: string; name: string }[],
  what: string,
): FarmError {
  const list = actions.map((a) => `${a.name} (${a.member}, ${a.action})`);
  return new FarmError(
    "confirm_needed",
    `${what} of farm '${farm}' destroys ${actions.length} VM(s): ${list.join(", ")}`,
    65,
    "confirm with --yes (farmctl asks on a terminal)",
    { actions },
  );
}

export function farmUpSteps(): SagaStep<FarmUpCtx>[] {
  return [
    {
      name: "preflight",
      title: "resolve and plan the farm, check every member before any copy",
      planning: true,
      async do(ctx, step) {
        const { req, deps } = ctx;
        const farm = resolveFarm(req);
        const plan = await planOf(farm, req.platform, deps);
        if (req.plan) checkSavedPlan(req.plan, plan);
        const risky = destructive(plan, req.prune ?? false).map((a) => ({
          action: a.action === "replace" ? ("replace" as const) : ("destroy" as const),
          member: a.member,
          name: a.name,
        }));
        if (risky.length && !req.yes) throw confirmNeeded(farm.name, risky, "farm up");
        const onError = req.onError ?? farm.run.onError;
        const { problems, picks } = await checkFarm(farm, plan.actions, deps);
        refuseProblems(farm, plan, problems, onError);
        Object.assign(ctx, { farm, plan, problems, picks });
        step.record({ farm, plan, problems });
      },
    },
    {
      name: "members",
      title: "create, replace and update the members",
      async do(ctx, step) {
        const deps = farmDeps(ctx.deps);
        const farm = ctx.farm!;
        ctx.outcomes = await upMembers(
          { opId: ctx.opId, deps, signal: deps.signal, record: (d) => step.record(d) },
          {
            farm,
            actions: ctx.plan!.actions,
            onError: ctx.req.onError ?? farm.run.onError,
            prune: ctx.req.prune ?? false,
            problems: ctx.problems ?? [],
          },
        );
        step.record({ outcomes: ctx.outcomes });
        // The farm's record follows its members: `farm status` and `farm down` start from it; a farm
        // left without any (atomic undid them all) has none, as after `farm down`.
        if (deps.inventory.members(farm.name).length) deps.farms.upsert(farm, ctx.opId);
        else deps.farms.delete(farm.name);
      },
      // A cancel or a crash mid-update: the host blocks rewritten for variables not yet recorded go back.
      async undo(ctx, step) {
        await undoUnrecorded(ctx.deps, step.data, (d) => step.record(d));
      },
    },
  ];
}

/**
 * A name held by a VM that is not this farm's refuses the whole farm, whatever on_error: it is
 * someone else's. Otherwise, continue: members with a problem (a missing source, ...) fail
 * alone, unless none is left to run; stop and atomic: the farm does not start at all.
 */
function refuseProblems(
  farm: ResolvedFarm,
  plan: FarmPlan,
  problems: MemberProblem[],
  onError: string,
): void {
  if (!problems.length) return;
  const runnable = plan.actions.filter(
    (a) =>
      a.action !== "noop" && a.action !== "orphan" && !problems.some((p) => p.member === a.member),
  );
  const refused = plan.actions.some(
    (a) => a.action === "refuse" && problems.some((p) => p.member === a.member),
  );
  if (onError === "continue" && runnable.length && !refused) return;
  const first = problems[0]!.error;
  const all = problems.map((p) => `member ${p.member} (${p.name}): ${p.error.message}`);
  throw new FarmError(
    problems.every((p) => p.error.code === first.code) ? first.code : "bad_input",
    `farm '${farm.name}' cannot come up: ${all.join("; ")}`,
    first.exitCode ?? 65,
    problems.length === 1 ? first.hint : "fix each member named, then run `farm up` again",
    { problems },
  );
}

export function farmUpResult(ctx: FarmUpCtx): FarmRunResult {
  return {
    farm: ctx.farm?.name ?? String(ctx.req.spec.name),
    opId: ctx.opId,
    members: ctx.outcomes ?? [],
  };
}

/** The farm operation failed when a member did; its result still says how each member ended. */
export function farmFailure(result: FarmRunResult): OperationFailed | null {
  const bad = result.members.filter((m) => m.status === "failed" || m.status === "refused");
  if (!bad.length) return null;
  return new OperationFailed(
    `farm '${result.farm}': ${bad.length} of ${result.members.length} member(s) failed: ${bad
      .map((m) => `${m.member} (${m.error})`)
      .join("; ")}`,
    "fix what each member's error names, then run the command again: it acts only on what is left",
    { result },
  );
}

/** A dry run's answer, shaped as the run's: what each member would do, nothing done. */
export function plannedResult(ctx: FarmUpCtx): FarmRunResult {
  const problems = ctx.problems ?? [];
  return {
    farm: ctx.plan!.farm,
    opId: "",
    members: ctx.plan!.actions.map((a) => {
      const problem = problems.find((p) => p.member === a.member)?.error.message ?? null;
      const status =
        a.action === "refuse"
          ? "refused"
          : problem
            ? "failed"
            : a.action === "noop"
              ? "unchanged"
              : "skipped";
      return {
        member: a.member,
        name: a.name,
        action: a.action,
        status,
        opId: null,
        error: problem,
      };
    }),
  };
}
