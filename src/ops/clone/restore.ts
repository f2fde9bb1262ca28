// Rebuilds a clone's context from its journal, so farmd can roll back or resume an operation that
// a crash left behind: every fact an undo or a later step needs was recorded by the step that learned it.
import type { CloneRequest, CopyReport, GuestResult } from "../../api/clone.js";
import type { GuestIdentity } from "../../api/vm.js";
import { withIdentity } from "./identity.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import type { StepRecord } from "../../state/journal.js";
import type { Allocation } from "../allocate.js";
import type { LvInfo } from "../ports.js";
import type { CloneFacts } from "./request.js";
import type { CloneCtx, CloneDeps } from "./steps.js";

export function restoreCloneCtx(
  opId: string,
  req: CloneRequest,
  deps: CloneDeps,
  steps: StepRecord[],
): CloneCtx {
  const data = (name: string) => steps.find((s) => s.name === name)?.data ?? {};
  const facts = data("preflight").facts as Omit<CloneFacts, "used"> | undefined;
  return {
    opId,
    req,
    deps,
    warnings: [],
    facts: facts && { ...facts, used: { ips: new Map(), macs: new Set(), ports: new Map() } },
    alloc: data("allocate").alloc as Allocation | undefined,
    entry: data("allocate").entry as VmEntry | undefined,
    snapshotUuid: data("snapshot").uuid as string | undefined,
    targetLv: data("create-lv").lv as LvInfo | undefined,
    copy: data("copy").report as CopyReport | null | undefined,
    adoptedLvName: data("adopt").adoptedLvName as string | undefined,
    expiresAt: data("record").expiresAt as string | null | undefined,
    guest: withIdentity(
      data("customize").guest as GuestResult | undefined,
      data("identity").guest as GuestIdentity | undefined,
    ),
  };
}
