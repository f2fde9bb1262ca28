// `farmctl list`, `farmctl show NAME`: the admin's view of the farm.
import { Command, Option } from "commander";
import { EXIT, FarmError } from "../api/errors.js";
import { LIST_FIELDS, type ListField, type VmDetail, type VmRow } from "../api/inventory.js";
import { connect } from "../client/connect.js";
import { formatBytes, formatExpiry, formatGuest } from "./format.js";
import { printJson } from "./output.js";
import { closest } from "../api/suggest.js";
import { table } from "./table.js";

// The columns that fit a terminal; -o adds instance, lv, source, created, hostname, machineId,
// farm, member, owner, expires.
const DEFAULT_FIELDS = LIST_FIELDS.filter(
  (f) =>
    ![
      "instance",
      "lv",
      "source",
      "created",
      "hostname",
      "machineId",
      "farm",
      "member",
      "owner",
      "expiresAt",
    ].includes(f),
);

const bytes = (n: number | null) => (n === null ? "-" : formatBytes(n));

/** Each field's column: its header and its cell; the field name is the row's JSON key. */
const COLUMN: Record<ListField, [string, (r: VmRow) => string]> = {
  name: ["NAME", (r) => r.name],
  group: ["GROUP", (r) => r.group],
  instance: ["INSTANCE", (r) => r.instance],
  state: ["STATE", (r) => r.state],
  ip: ["IP", (r) => r.ip ?? "-"],
  mac: ["MAC", (r) => r.mac ?? "-"],
  sshPort: ["SSH_PORT", (r) => (r.sshPort === null ? "-" : String(r.sshPort))],
  webName: ["WEB", (r) => r.webName ?? "-"],
  memoryBytes: ["MEMORY", (r) => bytes(r.memoryBytes)],
  balloonBytes: ["BALLOON", (r) => bytes(r.balloonBytes)],
  lv: ["LV", (r) => r.lv ?? "-"],
  diskBytes: ["DISK", (r) => bytes(r.diskBytes)],
  source: ["SOURCE", (r) => r.source ?? "-"],
  created: ["CREATED", (r) => r.created ?? "-"],
  origin: ["ORIGIN", (r) => r.origin],
  hostname: ["HOSTNAME", (r) => r.hostname ?? "-"],
  machineId: ["MACHINE_ID", (r) => r.machineId ?? "-"],
  farm: ["FARM", (r) => r.farm ?? "-"],
  member: ["MEMBER", (r) => r.member ?? "-"],
  owner: ["OWNER", (r) => r.owner ?? "-"],
  expiresAt: ["EXPIRES", (r) => (r.expiresAt ? formatExpiry(r.expiresAt) : "-")],
};

/** Short names -o takes for a field (its table header); the JSON key stays the field's. */
const FIELD_ALIASES = new Map<string, ListField>([["expires", "expiresAt"]]);

/** The fields -o names; an unknown one is a usage error (64) with the likely one and the list. */
export function listFields(v: string): ListField[] {
  const list = v.split(",").map((f) => FIELD_ALIASES.get(f.trim()) ?? f.trim());
  const valid: readonly string[] = LIST_FIELDS;
  const bad = list.find((f) => !valid.includes(f));
  if (bad !== undefined) {
    const meant = closest(bad, valid);
    throw new FarmError(
      "bad_usage",
      `unknown field '${bad}' for -o${meant ? `; did you mean '${meant}'?` : ""}`,
      EXIT.badUsage,
      `fields: ${LIST_FIELDS.join(",")} (expires for expiresAt)`,
    );
  }
  return list as ListField[];
}

/** A row with only the fields asked for, in their order. */
const pick = (r: VmRow, cols: ListField[]) => Object.fromEntries(cols.map((c) => [c, r[c]]));

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
    ["owner", v.owner ?? "-"],
    ["expires", v.expiresAt ? formatExpiry(v.expiresAt) : "- (no lease)"],
    ["farm", v.farm ? `${v.farm} (member ${v.member ?? "?"})` : "-"],
    ["vars", formatVars(d.vars)],
  ];
  const files = d.files.map(
    (f) =>
      `\n${f.path} (${f.farmctl ? "farmctl's block" : "hand-written"}):\n${f.text.replace(/^/gm, "  ")}`,
  );
  // What the guest printed at its first boot: check the fingerprint before the first ssh.
  const guest = `\n${formatGuest({ ...v, sshHostKeys: d.sshHostKeys })}`;
  const ops = d.operations.length
    ? `\noperations:\n${d.operations.map((o) => `  ${o.id} ${o.kind} ${o.state} ${o.createdAt}`).join("\n")}\n`
    : "";
  return `${v.name}\n${rows.map(([k, x]) => `  ${k.padEnd(9)} ${x}`).join("\n")}\n${guest}${files.join("")}${ops}`;
}

/** `k=v` pairs sorted by key, JSON-quoted where a value holds a blank or a quote. */
function formatVars(vars: Record<string, string>): string {
  const pairs = Object.entries(vars).sort(([a], [b]) => a.localeCompare(b));
  if (!pairs.length) return "-";
  return pairs.map(([k, v]) => `${k}=${/^[^\s"']+$/.test(v) ? v : JSON.stringify(v)}`).join(" ");
}

const configOption = () => new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG");

export function registerInventory(program: Command): void {
  program
    .command("list")
    .description(
      "every VM of the farm: farmctl's, and those made by hand (learned from Ganeti and the config files)",
    )
    .option(
      "-o, --output <fields>",
      `fields, comma-separated, for the table and --json: ${LIST_FIELDS.join(",")} (expires for expiresAt)`,
    )
    .option("--no-headers", "omit the header line")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (o: { output?: string; headers: boolean; json?: boolean; config?: string }) => {
      const cols = o.output === undefined ? undefined : listFields(o.output);
      const vms = await connect({ configPath: o.config }).vms();
      if (o.json) return printJson({ ok: true, vms: cols ? vms.map((r) => pick(r, cols)) : vms });
      const shown = cols ?? DEFAULT_FIELDS;
      const text = table(
        shown.map((c) => COLUMN[c][0]),
        vms.map((r) => shown.map((c) => COLUMN[c][1](r))),
      );
      process.stdout.write(o.headers ? text : text.split("\n").slice(1).join("\n"));
    });

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
