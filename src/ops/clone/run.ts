// Runs a clone as a journaled saga and returns what was made.
import type { Journal } from "../../state/journal.js";
import { runSaga } from "../saga.js";
import type { CloneRequest } from "./request.js";
import { cloneResult, cloneSteps, type CloneDeps, type CloneResult } from "./steps.js";

export interface CloneRun {
  deps: CloneDeps;
  /** The journal to write: the real state, or a throw-away one for --dry-run. */
  journal: Journal;
}

export async function runClone(
  req: CloneRequest,
  { deps, journal }: CloneRun,
): Promise<CloneResult> {
  const opId = journal.createOperation("clone", req.name, { ...req });
  const ctx = { opId, req, deps, warnings: [] };
  await runSaga(cloneSteps(), ctx, { opId, journal, events: deps.events });
  return cloneResult(ctx);
}
