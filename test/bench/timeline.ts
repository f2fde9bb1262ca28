// Where a benchmark's time went: each operation's steps as farmd journaled them, as offsets from
// a start and durations, read over farmd's socket inside the testbed (for the log, not asserted).
import type { OperationRecord, StepRecord } from "../../src/api/operations.js";
import type { Testbed } from "../testbed/testbed.js";

interface OperationView {
  operation: OperationRecord;
  steps: StepRecord[];
  children?: OperationRecord[];
}

async function operation(tb: Testbed, id: string): Promise<OperationView> {
  // prettier-ignore
  const out = await tb.run([
    "curl", "-sf", "--unix-socket", "/run/farmd/farmd.sock", `http://farmd/v1/operations/${id}`,
  ]);
  return JSON.parse(out) as OperationView;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** One line per operation: `<target> <kind>: step +offset duration, ...` from `t0`. */
function line(view: OperationView, t0: number): string {
  const steps = view.steps.map((s) => {
    const start = Date.parse(s.startedAt);
    const end = s.finishedAt ? Date.parse(s.finishedAt) : start;
    return `${s.name} +${seconds(start - t0)} ${seconds(end - start)}`;
  });
  return `  ${view.operation.target} ${view.operation.kind}: ${steps.join(", ")}`;
}

/** The operations `ids` and, for a farm operation, its members' operations, timed from its start. */
export async function timeline(tb: Testbed, ids: string[]): Promise<string> {
  const lines: string[] = [];
  for (const id of ids) {
    const view = await operation(tb, id);
    const t0 = Date.parse(view.operation.createdAt);
    lines.push(line(view, t0));
    for (const child of view.children ?? []) lines.push(line(await operation(tb, child.id), t0));
  }
  return lines.join("\n");
}
