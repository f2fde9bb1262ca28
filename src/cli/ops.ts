// `farmctl ops [ID]`, `farmctl cancel ID`, `farmctl resume ID`: farmd's operations.
import { Command, Option } from "commander";
import { connect } from "../client/connect.js";
import type { OperationRecord, StepRecord } from "../api/operations.js";
import { seconds, stepTimes, type StepTime } from "../api/step-times.js";
import { follow } from "./follow.js";
import { printJson } from "./output.js";
import { table } from "./table.js";

interface Common {
  json?: boolean;
  config?: string;
}

const configOption = () => new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG");

/**
 * The operations newest first, each farm operation followed by its member operations (oldest
 * first, indented under it); a child whose parent is not listed stands on its own.
 */
export function nestOperations(ops: OperationRecord[]): { op: OperationRecord; depth: number }[] {
  const listed = new Set(ops.map((o) => o.id));
  const out: { op: OperationRecord; depth: number }[] = [];
  const place = (op: OperationRecord, depth: number) => {
    out.push({ op, depth });
    const children = ops.filter((c) => c.parentId === op.id).reverse();
    for (const c of children) place(c, depth + 1);
  };
  for (const o of ops) if (!o.parentId || !listed.has(o.parentId)) place(o, 0);
  return out;
}

export function opsTable(ops: OperationRecord[]): string {
  return table(
    ["ID", "KIND", "TARGET", "STATE", "OWNER", "STARTED", "UPDATED"],
    nestOperations(ops).map(({ op: o, depth }) => [
      `${"  ".repeat(Math.max(0, depth - 1))}${depth ? "└ " : ""}${o.id}`,
      o.kind,
      o.target,
      o.state,
      o.owner ?? "-",
      o.createdAt,
      o.updatedAt,
    ]),
  );
}

const timeOf = (t: StepTime) =>
  `+${seconds(t.startMs)}`.padStart(8) + (t.ms === null ? "" : seconds(t.ms)).padStart(8);

export function opDetail(
  op: OperationRecord,
  steps: StepRecord[],
  children: OperationRecord[] = [],
): string {
  const parent = op.parentId ? ` under ${op.parentId}` : "";
  const by = op.owner ? ` by ${op.owner}` : "";
  const head = `operation ${op.id}: ${op.kind} ${op.target}, ${op.state}${parent} (started${by} ${op.createdAt}, updated ${op.updatedAt})\n`;
  // Start offset and duration: the steps that ran at once (a clone's branches) show as such.
  const times = stepTimes(steps);
  const err = op.error
    ? `error: ${(op.error as { message?: string }).message ?? JSON.stringify(op.error)}\n`
    : "";
  return (
    head +
    err +
    steps
      .map(
        (s, i) =>
          `  ${String(s.seq + 1).padStart(2)} ${s.name.padEnd(14)} ${timeOf(times[i]!)} ${s.state}${s.error ? `: ${s.error}` : ""}`,
      )
      .join("\n") +
    "\n" +
    children.map((c) => `  └ ${c.id} ${c.kind} ${c.target}, ${c.state}\n`).join("")
  );
}

/** Follows an operation after a cancel or resume, and exits as it ended. */
async function followAfter(id: string, o: Common): Promise<void> {
  const client = connect({ configPath: o.config });
  const { result, detached } = await follow(
    id,
    (signal) => client.events(id, true, -1, signal),
    Boolean(o.json),
  );
  if (detached) return;
  if (o.json) printJson({ ok: true, opId: id, result: result ?? null });
  else process.stdout.write(`operation ${id} ${result ? "succeeded" : "ended"}\n`);
}

export function registerOps(program: Command): void {
  program
    .command("ops")
    .description("list farmd's operations, or show (and --follow) one")
    .argument("[id]", "an operation id")
    .option("--follow", "follow the operation's events until it ends (Ctrl-C stops following)")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (id: string | undefined, o: Common & { follow?: boolean }) => {
      const client = connect({ configPath: o.config });
      if (!id) {
        const ops = await client.operations();
        return o.json
          ? printJson({ ok: true, operations: ops })
          : void process.stdout.write(opsTable(ops));
      }
      if (o.follow) return followAfter(id, o);
      const { operation, steps, children } = await client.operation(id);
      return o.json
        ? printJson({ ok: true, operation, steps, children })
        : void process.stdout.write(opDetail(operation, steps, children));
    });

  program
    .command("cancel")
    .description("stop an operation and roll it back")
    .argument("<id>", "the operation id")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (id: string, o: Common) => {
      const client = connect({ configPath: o.config });
      await client.cancel(id);
      // The operation ends in an error (it was cancelled); what counts is that it was rolled back.
      await follow(id, (signal) => client.events(id, true, -1, signal), Boolean(o.json)).catch(
        () => undefined,
      );
      const { operation } = await client.operation(id);
      if (o.json)
        printJson({ ok: operation.state === "rolled-back", opId: id, state: operation.state });
      else process.stdout.write(`operation ${id}: ${operation.state}\n`);
      if (operation.state !== "rolled-back") process.exitCode = 1;
    });

  program
    .command("resume")
    .description("resume an interrupted operation from its first unfinished step")
    .argument("<id>", "the operation id")
    .option("--detach", "return at once; the operation goes on in farmd")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (id: string, o: Common & { detach?: boolean }) => {
      await connect({ configPath: o.config }).resume(id);
      if (!o.detach) await followAfter(id, o);
    });
}
