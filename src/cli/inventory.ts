// `farmctl list`, `farmctl show NAME`: the admin's view of the farm.
import { Command, InvalidArgumentError, Option } from "commander";
import { LIST_FIELDS, type ListField, type VmDetail, type VmRow } from "../api/inventory.js";
import { connect } from "../client/connect.js";
import { formatBytes } from "./format.js";
import { printJson } from "./output.js";
import { table } from "./table.js";

// The columns that fit a terminal; -o adds lv, source, created.
const DEFAULT_FIELDS = LIST_FIELDS.filter((f) => !["lv", "source", "created"].includes(f));

const bytes = (n: number | null) => (n === null ? "-" : formatBytes(n));

const CELL: Record<ListField, (r: VmRow) => string> = {
  name: (r) => r.name,
  group: (r) => r.group,
  state: (r) => r.state,
  ip: (r) => r.ip ?? "-",
  mac: (r) => r.mac ?? "-",
  ssh_port: (r) => (r.sshPort === null ? "-" : String(r.sshPort)),
  web: (r) => r.webName ?? "-",
  memory: (r) => bytes(r.memoryBytes),
  balloon: (r) => bytes(r.balloonBytes),
  lv: (r) => r.lv ?? "-",
  disk: (r) => bytes(r.diskBytes),
  source: (r) => r.source ?? "-",
  created: (r) => r.created ?? "-",
  origin: (r) => r.origin,
};

function fields(v: string): ListField[] {
  const list = v.split(",").map((f) => f.trim());
  const bad = list.filter((f) => !(LIST_FIELDS as readonly string[]).includes(f));
  if (bad.length)
    throw new InvalidArgumentError(
      `unknown field(s) ${bad.join(", ")}; fields: ${LIST_FIELDS.join(",")}`,
    );
  return list as ListField[];
}

function detail(d: VmDetail): string {
  const v = d.vm;
  const rows: [string, string][] = [
    ["instance", v.instance],
    ["origin", v.origin],
    ["state", v.state],
    ["address", v.ip ?? "-"],
    ["MAC", v.mac ?? "-"],
    ["SSH port", v.sshPort === null ? "-" : String(v.sshPort)],
    ["web", v.webName ?? "-"],
    ["memory", bytes(v.memoryBytes)],
    [
      "balloon",
      `${bytes(d.liveBalloonBytes)} now${v.balloonBytes !== null ? ` (${bytes(v.balloonBytes)} when last set)` : ""}`,
    ],
    ["disk", `${v.lv ?? "-"} (${bytes(v.diskBytes)})`],
    ["source", v.source ?? "-"],
    ["created", v.created ?? "-"],
  ];
  const files = d.files.map(
    (f) =>
      `\n${f.path} (${f.farmctl ? "farmctl's block" : "hand-written"}):\n${f.text.replace(/^/gm, "  ")}`,
  );
  const ops = d.operations.length
    ? `\noperations:\n${d.operations.map((o) => `  ${o.id} ${o.kind} ${o.state} ${o.createdAt}`).join("\n")}\n`
    : "";
  return `${v.name}\n${rows.map(([k, x]) => `  ${k.padEnd(9)} ${x}`).join("\n")}\n${files.join("")}${ops}`;
}

const configOption = () => new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG");

export function registerInventory(program: Command): void {
  program
    .command("list")
    .description(
      "every VM of the farm: farmctl's, and those made by hand (learned from Ganeti and the config files)",
    )
    .option("-o, --output <fields>", `columns, comma-separated: ${LIST_FIELDS.join(",")}`, fields)
    .option("--no-headers", "omit the header line")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(
      async (o: { output?: ListField[]; headers: boolean; json?: boolean; config?: string }) => {
        const vms = await connect({ configPath: o.config }).vms();
        if (o.json) return printJson({ ok: true, vms });
        const cols = o.output ?? DEFAULT_FIELDS;
        const text = table(
          cols.map((c) => c.toUpperCase()),
          vms.map((r) => cols.map((c) => CELL[c](r))),
        );
        process.stdout.write(o.headers ? text : text.split("\n").slice(1).join("\n"));
      },
    );

  program
    .command("show")
    .description(
      "everything about one VM: its values, its exact lines in each config file, its operations, its live balloon",
    )
    .argument("<name>", "short name of the VM")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (name: string, o: { json?: boolean; config?: string }) => {
      const d = await connect({ configPath: o.config }).vm(name);
      if (o.json) printJson({ ok: true, ...d });
      else process.stdout.write(detail(d));
    });
}
