// Follows a farm operation (`farm up`, `farm down`) to its end and prints how each member ended.
import { EXIT, FarmError } from "../api/errors.js";
import type { FarmPlan, FarmRunResult } from "../api/farm.js";
import type { FarmdClient, StreamedEvent } from "../client/http.js";
import { farmPlanView, FarmProgressView } from "./farm-progress.js";
import { memberFailed, planSummary, planTable, runTable } from "./farm-view.js";
import { follow } from "./follow.js";
import { printJson } from "./output.js";

export interface RunOptions {
  detach?: boolean;
  json?: boolean;
}

const isRunResult = (r: unknown): r is FarmRunResult =>
  Array.isArray((r as FarmRunResult | undefined)?.members);

/** Prints the per-member table; exit 1 when a member failed, was refused or undone. */
export function reportRun(verb: "up" | "down", result: FarmRunResult, o: RunOptions): void {
  const failed = result.members.some(memberFailed);
  if (o.json) printJson({ ok: !failed, result });
  else process.stdout.write(runTable(verb, result));
  if (failed) process.exitCode = EXIT.failed;
}

export async function followFarm(
  client: FarmdClient,
  verb: "up" | "down",
  opId: string,
  o: RunOptions,
): Promise<void> {
  if (o.detach) {
    process.stdout.write(o.json ? JSON.stringify({ ok: true, opId }, null, 2) + "\n" : `${opId}\n`);
    return;
  }
  if (!o.json) process.stderr.write(`operation ${opId} (Ctrl-C detaches; it goes on in farmd)\n`);
  const view = new FarmProgressView({
    write: (s) => process.stderr.write(s),
    isTTY: Boolean(process.stderr.isTTY),
  });
  try {
    const { result, detached } = await follow<FarmRunResult>(
      opId,
      (signal) => client.events(opId, true, -1, signal),
      Boolean(o.json),
      false,
      view,
    );
    if (!detached) reportRun(verb, result!, o);
  } catch (err) {
    // A farm operation that failed as a whole may still say how its members ended.
    const partial = err instanceof FarmError ? err.details?.result : undefined;
    if (isRunResult(partial) && !o.json) process.stdout.write(runTable(verb, partial));
    throw err;
  }
}

/**
 * `--dry-run`: each member's plan on stdout, then how every member would end (a plan, if that is
 * what farmd answers); exit 1, as the run would, when a member would fail or be refused.
 */
export async function dryRun(
  verb: "up" | "down",
  stream: () => AsyncIterable<StreamedEvent>,
  o: RunOptions,
): Promise<void> {
  const { result } = await follow<FarmRunResult | FarmPlan>(
    null,
    stream,
    Boolean(o.json),
    true,
    farmPlanView(),
  );
  const failed = isRunResult(result) && result.members.some(memberFailed);
  if (failed) process.exitCode = EXIT.failed;
  if (o.json) return printJson({ ok: !failed, dryRun: true, result });
  const text = isRunResult(result)
    ? runTable(verb, result)
    : planTable(result as FarmPlan) + planSummary(result as FarmPlan);
  process.stdout.write(`dry run: nothing was changed.\n${text}`);
}
