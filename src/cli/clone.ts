// `farmctl clone SOURCE NAME`: the main job.
import { Command, InvalidArgumentError, Option } from "commander";
import { EXIT, FarmError } from "../api/errors.js";
import type { CloneRequest, CloneResult, CopyReport } from "../api/clone.js";
import type { OpEvent } from "../api/events.js";
import { connect } from "../client/connect.js";
import { follow, reportOperation } from "./follow.js";
import { formatBytes, formatDuration, formatExpiry, formatGuest } from "./format.js";
import { printJson } from "./output.js";
import { formatStepTimes } from "../api/step-times.js";

/** Repeated --var KEY=VALUE, kept raw: parsed once all are known (a repeated key is refused). */
const collect = (v: string, all: string[] = []) => [...all, v];

/** --var pairs as the request's vars; the daemon checks names and values (exit 65). */
export function parseVars(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const vars = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const usage = (message: string) =>
      new FarmError(
        "bad_usage",
        message,
        EXIT.badUsage,
        "give it as --var KEY=VALUE, like --var git_revision=master",
      );
    if (eq < 1) throw usage(`--var '${pair.slice(0, 80)}' is not KEY=VALUE`);
    const key = pair.slice(0, eq);
    if (vars.has(key)) throw usage(`--var ${key.slice(0, 80)} is given twice`);
    vars.set(key, pair.slice(eq + 1));
  }
  // fromEntries defines own keys: a variable named __proto__ stays a variable.
  return Object.fromEntries(vars);
}

const port = (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError("must be a TCP port number");
  return Number(v);
};

export function registerClone(program: Command): void {
  program
    .command("clone")
    .description(
      "clone the VM SOURCE into a new VM NAME (snapshot, copy, DNS, DHCP, Ganeti, firewall, balloon, nginx)",
    )
    .argument("<source>", "short name of the VM to clone, e.g. gallifrey")
    .argument("<name>", "short name of the new VM, e.g. gallifrey-dev")
    .option("--group <group>", "group of the new VM (default: the source's group)")
    .option("--memory <size>", "memory of the new VM, e.g. 4G (default [ganeti] memory)")
    .option(
      "--balloon <size>",
      "balloon the memory down to this size after start (default [balloon] target)",
    )
    .option(
      "--ip <address>",
      "address of the new VM (default: the first free one in [network] subnet)",
    )
    .option("--mac <mac>", "MAC of the new VM, 52:54:xx:xx:xx:xx (default: random)")
    .option(
      "--ssh-port <port>",
      "public SSH port, free and inside [firewall] ssh_ports (default: ssh_port_base + last octet)",
      port,
    )
    .option("--web <name>", "nginx server_name (default: <name>.<public_domain>)")
    .option("--no-web", "do not add an nginx site")
    .option("--no-start", "do not start the VM (and do not balloon it)")
    .option(
      "--var <key=value>",
      "a variable for the guest's file templates (vars.KEY); repeat for more",
      collect,
    )
    .option("--no-customize", "leave the guest as the source's (no new hostname, keys, files)")
    .option(
      "--lease <duration>",
      "farmd destroys the VM this long after the clone succeeded, e.g. 2h (at most [leases] max); farmctl renew extends it",
    )
    .option(
      "--bwlimit <rate>",
      "limit the disk copy's writes to this many bytes per second, e.g. 100M (0: none; default: [copy] bwlimit)",
    )
    .option("--dry-run", "print every command and file diff; change nothing")
    .option("--json", "print one JSON document on stdout")
    .addOption(new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG"))
    .option("--detach", "print the operation id and return; the clone goes on in farmd")
    .action(async (source: string, name: string, o: CloneOptions) => {
      const client = connect({ configPath: o.config });
      const req: CloneRequest = {
        source,
        name,
        group: o.group,
        memory: o.memory,
        balloon: o.balloon,
        ip: o.ip,
        mac: o.mac,
        sshPort: o.sshPort,
        web: o.web === false ? null : o.web === true ? undefined : o.web,
        start: o.start,
        vars: parseVars(o.var),
        customize: o.customize === false ? false : undefined,
        lease: o.lease,
        bwlimit: o.bwlimit,
      };
      if (o.dryRun) {
        const { result, events } = await follow(
          null,
          () => client.plan(req),
          Boolean(o.json),
          true,
        );
        if (o.json) printJson({ ok: true, dryRun: true, plan: planOf(events), result });
        else process.stdout.write(dryRunSummary(result!));
        return;
      }
      await reportOperation(client, await client.startClone(req), o, summary);
    });
}

/** commander's view of the options: the request's fields plus the CLI's own. */
type CloneOptions = Pick<
  CloneRequest,
  "group" | "memory" | "balloon" | "ip" | "mac" | "sshPort" | "lease" | "bwlimit"
> & {
  web?: string | boolean;
  start: boolean;
  var?: string[];
  customize: boolean;
  dryRun?: boolean;
  detach?: boolean;
  json?: boolean;
  config?: string;
};

/** The dry-run plan as data: each step with its commands and file diffs. */
function planOf(events: OpEvent[]) {
  const steps: {
    step: string;
    title: string;
    commands: string[][];
    diffs: { path: string; diff: string }[];
  }[] = [];
  for (const e of events) {
    if (e.type === "step-start")
      steps.push({ step: e.step, title: e.title, commands: [], diffs: [] });
    else if (e.type === "command") steps.at(-1)?.commands.push(e.argv);
    else if (e.type === "file-diff") steps.at(-1)?.diffs.push({ path: e.path, diff: e.diff });
  }
  return steps;
}

/** `planned`: a dry run's result, whose balloon was never tried. */
function table(r: CloneResult, planned = false): string {
  const rows: [string, string][] = [
    ["instance", r.instance],
    ["address", r.ip],
    ["MAC", r.mac],
    ["SSH port", String(r.sshPort)],
    ["web", r.webName ?? "(none)"],
    ["memory", formatBytes(r.memoryBytes)],
    [
      "balloon",
      planned
        ? `target ${formatBytes(r.balloonTargetBytes)}`
        : r.balloonReachedBytes === null
          ? `target ${formatBytes(r.balloonTargetBytes)} (not reached)`
          : `${formatBytes(r.balloonReachedBytes)} (target ${formatBytes(r.balloonTargetBytes)})`,
    ],
    ["disk", `${r.lv ?? "?"} (${formatBytes(r.diskBytes)})`],
    ...(planned ? [] : [["copy", copyLine(r.copy)] as [string, string]]),
    ["source", r.source],
    ["guest", guestLine(r)],
  ];
  if (r.expiresAt)
    rows.push([
      "expires",
      `${formatExpiry(r.expiresAt)}${planned ? ", were the clone to end now" : ""}`,
    ]);
  return rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}`).join("\n") + "\n";
}

/** What the copy cost, so the admin sees its rate and whether the throttle held it. */
function copyLine(c: CopyReport | null | undefined): string {
  if (!c) return "none (the disk was not copied with dd)";
  const rate = `${formatBytes(c.bytes)} in ${formatDuration(c.ms)}, ${formatBytes(c.rateBytesPerSec)}/s`;
  const t = c.throttle;
  return t ? `${rate}, limited to ${formatBytes(t.limitBytesPerSec)}/s by ${t.mechanism}` : rate;
}

function guestLine(r: CloneResult): string {
  const g = r.guest;
  if (!g) return "(not customized)";
  if (g.skipped) return `not customized (${g.skipped})`;
  const files = g.files.length ? `; files ${g.files.join(", ")}` : "";
  return `${g.operations.join(", ")}${g.hostname ? `; hostname ${g.hostname}` : ""}${files}`;
}

function summary(r: CloneResult): string {
  const warn = r.warnings.map((w) => `warning: ${w}\n`).join("");
  const guest = r.guest ? formatGuest(r.guest) : "";
  const times = formatStepTimes(r.steps ?? []);
  return `cloned ${r.source} into ${r.name} (operation ${r.opId})\n${table(r)}${guest}${warn}${times}`;
}

function dryRunSummary(r: CloneResult): string {
  return `dry run: nothing was changed. The clone would create:\n${table(r, true)}`;
}
