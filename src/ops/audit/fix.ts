// `farmctl audit --fix` as an operation: journaled and followed like a clone, its repairs made
// under the same family locks, so it never races a clone or destroy over a file or a snapshot.
import type { AuditReport } from "../../api/inventory.js";
import { FarmError } from "../../api/errors.js";
import type { CloneDeps } from "../clone/steps.js";
import type { SagaStep } from "../saga.js";
import { auditAndFix } from "./audit.js";
import type { AuditDeps } from "./checks.js";

export type FixRequest = Record<string, never>;

export interface FixCtx {
  opId: string;
  deps: AuditDeps;
  report?: AuditReport;
}

/** The journal and resolver farmd adds to an operation's adapters: the audit reads both. */
export function fixCtx(opId: string, deps: CloneDeps & Partial<AuditDeps>): FixCtx {
  const { journal, resolve } = deps;
  if (!journal || !resolve)
    throw new FarmError("internal", "audit --fix needs the journal and a resolver", 70);
  return { opId, deps: { ...deps, journal, resolve } };
}

export function fixSteps(): SagaStep<FixCtx>[] {
  return [
    {
      name: "fix",
      title: "repair what is safe, then audit again",
      // Each repair re-adds an entry or removes a leftover snapshot: nothing of it to undo.
      async do(ctx) {
        ctx.report = await auditAndFix(ctx.deps, true);
      },
    },
  ];
}
