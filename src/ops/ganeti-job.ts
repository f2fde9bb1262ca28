// Ganeti jobs a step submits: the id is journaled before farmd waits on it, so that an undo or a
// crash recovery first finds the job again and lets it end instead of racing it.
import { FarmError } from "../api/errors.js";
import type { JobOp } from "../host/ganeti.js";
import type { GanetiPort } from "./ports.js";
import type { StepHandle } from "./saga.js";

/** The `onJob` of a submit: journals the id under `key`, then marks the step's crash point. */
export function journalJob(step: StepHandle, key = "jobId"): (jobId: number) => void {
  return (jobId) => {
    step.record({ [key]: jobId });
    step.acted();
  };
}

/**
 * Waits until the job this step submitted has ended, whatever its outcome (the caller reads the
 * host afterwards). Found by its journaled id, else — a crash between submit and journal — as an
 * unfinished OP(fqdn) job in `gnt-job list`.
 */
export async function settleJob(
  ganeti: GanetiPort,
  step: StepHandle,
  op: JobOp,
  fqdn: string,
  key = "jobId",
): Promise<void> {
  const journaled = step.data[key];
  const id = typeof journaled === "number" ? journaled : await ganeti.unfinishedJob(op, fqdn);
  if (id !== null) await ganeti.waitJob(id);
}

/** A failed submit or a job refused at its checks changed nothing; anything else may have. */
export function jobNeverRan(err: unknown, submitted: boolean): boolean {
  if (!(err instanceof FarmError) || err.code === "unavailable") return false;
  return submitted ? err.details?.prerequisites === true : true;
}
