// The kinds of operation farmd runs: how each checks its request, builds or restores its context
// from the journal, and what it returns.
import type { CloneRequest } from "../api/clone.js";
import type { DestroyRequest } from "../api/destroy.js";
import type { ImportRequest } from "../api/vm.js";
import { importResult, importSteps, type ImportCtx } from "../ops/import/steps.js";
import type { Config } from "../config/schema.js";
import { forField, FarmError } from "../api/errors.js";
import type { OpDeps } from "../ops/farm/deps.js";
import { checkRequest } from "../ops/clone/preflight.js";
import { restoreCloneCtx } from "../ops/clone/restore.js";
import { cloneResult } from "../ops/clone/result.js";
import { cloneSteps, type CloneCtx } from "../ops/clone/steps.js";
import { destroyResult, destroySteps, type DestroyCtx } from "../ops/destroy/steps.js";
import { checkLabel } from "../ops/names.js";
import { fixCtx, fixSteps, type FixCtx, type FixRequest } from "../ops/audit/fix.js";
import type { SagaStep } from "../ops/saga.js";
import type { StepRecord } from "../state/journal.js";
import type { FarmDownRequest, FarmUpRequest } from "../api/farm.js";
import { farmFailure, farmUpResult, farmUpSteps, type FarmUpCtx } from "../ops/farm/up.js";
import { checkDown, farmDownResult, farmDownSteps, type FarmDownCtx } from "../ops/farm/down.js";
import { resolveFarm } from "../ops/farm/resolve.js";

export interface Kind<Req, Ctx> {
  name: string;
  target(req: Req): string;
  /** Refuses bad input before it becomes an operation. */
  check(req: Req, config: Config): void;
  steps(): SagaStep<Ctx>[];
  ctx(opId: string, req: Req, deps: OpDeps): Ctx;
  restore(opId: string, req: Req, deps: OpDeps, steps: StepRecord[]): Ctx;
  result(ctx: Ctx): unknown;
  /** One operation of this kind per target at a time (a farm's): a second one is busy. */
  exclusive?: boolean;
  /** After every step ran: the operation failed anyway (a farm member failed), with its result. */
  failure?(ctx: Ctx): FarmError | null;
}

export const cloneKind: Kind<CloneRequest, CloneCtx> = {
  name: "clone",
  target: (req) => req.name,
  check: checkRequest,
  steps: cloneSteps,
  ctx: (opId, req, deps) => ({ opId, req, deps, warnings: [] }),
  restore: restoreCloneCtx,
  result: cloneResult,
};

/** Context rebuilt from what the preflight step recorded (destroy and import need nothing more). */
function fromPreflight<Ctx>(base: Ctx, steps: StepRecord[]): Ctx {
  return { ...base, ...(steps.find((s) => s.name === "preflight")?.data ?? {}) };
}

/** Destroy and import take a VM's short name only. */
const checkName = (req: { name: string }) =>
  void forField("request.name", () => checkLabel(req.name, "VM name"));

export const destroyKind: Kind<DestroyRequest, DestroyCtx> = {
  name: "destroy",
  target: (req) => req.name,
  check: checkName,
  steps: destroySteps,
  ctx: (opId, req, deps) => ({ opId, req, deps, warnings: [], leftInFiles: [] }),
  restore: (opId, req, deps, steps) =>
    fromPreflight({ opId, req, deps, warnings: [], leftInFiles: [] }, steps),
  result: destroyResult,
};

export const importKind: Kind<ImportRequest, ImportCtx> = {
  name: "import",
  target: (req) => req.name,
  check: checkName,
  steps: importSteps,
  ctx: (opId, req, deps) => ({ opId, req, deps, warnings: [] }),
  restore: (opId, req, deps, steps) => fromPreflight({ opId, req, deps, warnings: [] }, steps),
  result: importResult,
};

/** `audit --fix`: the host as a whole is its target (no VM is). */
export const fixKind: Kind<FixRequest, FixCtx> = {
  name: "fix",
  target: () => "host",
  check: () => {},
  steps: fixSteps,
  ctx: (opId, _req, deps) => fixCtx(opId, deps),
  restore: (opId, _req, deps) => fixCtx(opId, deps),
  result: (ctx) => ctx.report,
};

/** Context rebuilt from what every step recorded (a farm operation's plan and outcomes). */
function fromSteps<Ctx>(base: Ctx, steps: StepRecord[]): Ctx {
  return Object.assign(base as object, ...steps.map((s) => s.data)) as Ctx;
}

/** `farm up`: its target is the farm, held by one farm operation at a time. */
export const farmUpKind: Kind<FarmUpRequest, FarmUpCtx> = {
  name: "farm-up",
  target: (req) => `farm:${String(req.spec.name)}`,
  // Resolving checks the spec, its variables and the platform: bad input never reaches the host.
  check: (req) => void resolveFarm(req),
  steps: farmUpSteps,
  ctx: (opId, req, deps) => ({ opId, req, deps }),
  restore: (opId, req, deps, steps) => fromSteps({ opId, req, deps }, steps),
  result: farmUpResult,
  exclusive: true,
  failure: (ctx) => farmFailure(farmUpResult(ctx)),
};

export const farmDownKind: Kind<FarmDownRequest, FarmDownCtx> = {
  name: "farm-down",
  target: (req) => `farm:${req.name}`,
  check: (req) => forField("request.name", () => checkDown(req)),
  steps: farmDownSteps,
  ctx: (opId, req, deps) => ({ opId, req, deps }),
  restore: (opId, req, deps, steps) => fromSteps({ opId, req, deps }, steps),
  result: farmDownResult,
  exclusive: true,
  failure: (ctx) => farmFailure(farmDownResult(ctx)),
};

export const KINDS: Record<string, Kind<any, any>> = {
  clone: cloneKind,
  destroy: destroyKind,
  import: importKind,
  fix: fixKind,
  "farm-up": farmUpKind,
  "farm-down": farmDownKind,
};

export function kindOf(name: string): Kind<any, any> {
  const kind = KINDS[name];
  if (!kind) throw new FarmError("internal", `unknown operation kind '${name}'`, 70);
  return kind;
}
