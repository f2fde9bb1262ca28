// Pure parsers of Ganeti 3.0 `gnt-instance` output (formats checked against lib/cli.py,
// lib/client/gnt_instance.py and src/Ganeti/Query/Instance.hs of Ganeti 3.0.2).
import { unexpectedOutput } from "./parse-error.js";

const MIB = 1024 * 1024;

/** Fields of `gnt-instance list -o`, in the order parseInstanceList expects them. */
export const LIST_FIELDS = [
  "name",
  "status",
  "oper_state",
  "disk_template",
  "pnode",
  "be/memory",
  "nic.ips",
  "nic.macs",
  "disk.sizes",
] as const;

/** Separator given to `--separator`; no field of LIST_FIELDS can contain it. */
export const LIST_SEPARATOR = "|";

/** Ganeti's placeholders for a value it could not get (constants.RSS_DESCRIPTION). */
export const PLACEHOLDERS = {
  unknown: "??", // RS_UNKNOWN: no such field
  nodata: "?", // RS_NODATA: the node did not answer (e.g. ganeti-noded down)
  unavail: "-", // RS_UNAVAIL: not applicable (e.g. nic.ip/0 when the NIC has no IP)
  offline: "*", // RS_OFFLINE: the node is marked offline
} as const;
const PLACEHOLDER_VALUES: readonly string[] = Object.values(PLACEHOLDERS);

export type InstanceStatus =
  | "running"
  | "ADMIN_down"
  | "ADMIN_offline"
  | "USER_down"
  | "ERROR_up"
  | "ERROR_down"
  | "ERROR_nodedown"
  | "ERROR_nodeoffline"
  | "ERROR_wrongnode";

export interface GanetiInstance {
  name: string;
  /** Ganeti's combined state, e.g. "running", "ADMIN_down", "ERROR_nodedown". */
  status: InstanceStatus | (string & {});
  /** Whether the hypervisor runs it; null when the node could not be asked. */
  operState: boolean | null;
  diskTemplate: string;
  primaryNode: string;
  /** be/memory (an alias of be/maxmem); null if Ganeti gave a placeholder. */
  memoryBytes: number | null;
  /** One entry per NIC; null for a NIC without an IP (Ganeti prints "None"). */
  nicIps: (string | null)[];
  nicMacs: string[];
  diskSizesBytes: number[];
}

export function isPlaceholder(value: string): boolean {
  return PLACEHOLDER_VALUES.includes(value);
}

function mibToBytes(text: string, what: string, line: string): number {
  if (!/^\d+$/.test(text))
    throw unexpectedOutput("gnt-instance list", `bad ${what} '${text}'`, line);
  return Number(text) * MIB;
}

// List-valued fields are joined with "," by gnt-instance's format override; "" is an empty list.
function splitList(text: string, what: string, line: string): string[] {
  if (isPlaceholder(text)) {
    throw unexpectedOutput("gnt-instance list", `no value for ${what} (${text})`, line);
  }
  return text === "" ? [] : text.split(",");
}

function parseOperState(text: string, line: string): boolean | null {
  if (text === "Y") return true;
  if (text === "N") return false;
  if (isPlaceholder(text)) return null;
  throw unexpectedOutput("gnt-instance list", `bad oper_state '${text}'`, line);
}

/** Parses `gnt-instance list --no-headers --separator=| --units=m -o <LIST_FIELDS>`. */
export function parseInstanceList(stdout: string): GanetiInstance[] {
  const out: GanetiInstance[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split(LIST_SEPARATOR);
    if (f.length !== LIST_FIELDS.length) {
      throw unexpectedOutput(
        "gnt-instance list",
        `expected ${LIST_FIELDS.length} fields, got ${f.length}`,
        line,
      );
    }
    const [name, status, oper, template, pnode, mem, ips, macs, sizes] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    for (const [what, v] of [
      ["name", name],
      ["status", status],
      ["disk_template", template],
      ["pnode", pnode],
    ] as const) {
      if (v === "" || isPlaceholder(v)) {
        throw unexpectedOutput("gnt-instance list", `no value for ${what}`, line);
      }
    }
    out.push({
      name,
      status,
      operState: parseOperState(oper, line),
      diskTemplate: template,
      primaryNode: pnode,
      memoryBytes: isPlaceholder(mem) ? null : mibToBytes(mem, "be/memory", line),
      nicIps: splitList(ips, "nic.ips", line).map((ip) => (ip === "None" ? null : ip)),
      nicMacs: splitList(macs, "nic.macs", line),
      diskSizesBytes: splitList(sizes, "disk.sizes", line).map((s) =>
        mibToBytes(s, "disk size", line),
      ),
    });
  }
  return out;
}

export interface InfoDisk {
  index: number;
  /** Ganeti's dev_type of the disk: "plain", "drbd", "blockdev", ... */
  type: string;
  /** "vg/lv" for plain disks, Ganeti's rendering of logical_id otherwise; null if not shown. */
  logicalId: string | null;
  name: string | null;
  uuid: string | null;
}

export interface InstanceInfo {
  name: string;
  diskTemplate: string | null;
  disks: InfoDisk[];
}

const indentOf = (line: string): number => line.length - line.trimStart().length;

/** Parses the disks of `gnt-instance info --static <one instance>` (lib/client/gnt_instance.py). */
export function parseInstanceInfo(stdout: string): InstanceInfo {
  const lines = stdout.split("\n");
  const nameLine = lines.find((l) => l.startsWith("- Instance name: "));
  if (!nameLine) throw unexpectedOutput("gnt-instance info", "no 'Instance name' line", stdout);
  const info: InstanceInfo = {
    name: nameLine.slice("- Instance name: ".length).trim(),
    diskTemplate: null,
    disks: [],
  };
  const start = lines.findIndex((l) => /^ {2}Disks:\s*$/.test(l));
  const tpl = lines.find((l) => /^ {2}Disk template: /.test(l));
  if (tpl) info.diskTemplate = tpl.trim().slice("Disk template: ".length).trim();
  if (start < 0) return info;
  let disk: InfoDisk | null = null;
  let diskIndent = 0;
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") continue;
    const indent = indentOf(line);
    if (indent <= 2) break; // next top-level section: the Disks block is over
    const head = /^\s*- disk\/(\d+): ([^,]+), size /.exec(line);
    if (head) {
      disk = { index: Number(head[1]), type: head[2]!, logicalId: null, name: null, uuid: null };
      diskIndent = indent;
      info.disks.push(disk);
      continue;
    }
    // only the disk's own keys, not those of its child devices (drbd)
    if (!disk || indent !== diskIndent + 2) continue;
    const kv = /^\s*([A-Za-z_ ]+): ?(.*)$/.exec(line);
    if (!kv) continue;
    const value = kv[2]!.trim();
    if (kv[1] === "logical_id") disk.logicalId = value;
    else if (kv[1] === "name") disk.name = value === "None" ? null : value;
    else if (kv[1] === "UUID") disk.uuid = value;
  }
  return info;
}

/** Parses `gnt-instance info --static <several instances>`: one "- Instance name:" item each. */
export function parseInstanceInfos(stdout: string): InstanceInfo[] {
  const items = stdout.split(/^(?=- Instance name: )/m).filter((t) => t.trim() !== "");
  return items.map(parseInstanceInfo);
}

export interface GanetiFailure {
  /** Ganeti's error code (constants.ERRORS_ECODE_*), e.g. "already_exists"; null if none given. */
  errorType: string | null;
  details: string;
  /** The master daemon (luxid) did not answer. */
  masterTimeout: boolean;
}

/** Reads the stderr of a failed gnt-* command (cli.FormatError). */
export function parseGanetiFailure(stderr: string): GanetiFailure {
  const text = stderr.trim();
  if (text.startsWith("Timeout while talking to the master daemon")) {
    return { errorType: null, details: text, masterTimeout: true };
  }
  const typed = /error type: (\w+), error details:\n([\s\S]*)$/.exec(text);
  if (typed) return { errorType: typed[1]!, details: typed[2]!.trim(), masterTimeout: false };
  const plain = /^Failure: [^\n]*:\n([\s\S]*)$/.exec(text);
  return { errorType: null, details: (plain ? plain[1]! : text).trim(), masterTimeout: false };
}

/** Ganeti's job states (constants.JOB_STATUS_*); the last three are final. */
export const JOB_FINAL = ["canceled", "success", "error"] as const;

export interface GanetiJob {
  id: number;
  /** queued, waiting, canceling, running, canceled, success or error. */
  status: string;
  /** One summary per opcode, e.g. "INSTANCE_CREATE(gallifrey-dev.xivo.vm.farm)". */
  summary: string[];
}

/** The id that `--submit --print-jobid` prints alone on stdout (lib/cli.py SubmitOrSend). */
export function parseJobId(stdout: string): number {
  const m = /^(\d+)\n?$/.exec(stdout);
  if (!m) throw unexpectedOutput("gnt-instance --submit --print-jobid", "no job id", stdout);
  return Number(m[1]);
}

/** Parses `gnt-job list --no-headers --separator=| -o id,status,summary`. */
export function parseJobList(stdout: string): GanetiJob[] {
  const out: GanetiJob[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const m = /^(\d+)\|([^|]+)\|(.*)$/.exec(line);
    if (!m) throw unexpectedOutput("gnt-job list", "expected id|status|summary", line);
    out.push({ id: Number(m[1]), status: m[2]!, summary: m[3]!.split(",") });
  }
  return out;
}

/**
 * The stderr of a failed `gnt-job wait N` is `Job N failed: ` then cli.FormatError's text, as the
 * command itself would have printed without --submit; `prerequisites` is true when the job stopped
 * at its checks (OpPrereqError), before it changed anything.
 */
export function parseJobFailure(
  id: number,
  stderr: string,
): { text: string; prerequisites: boolean } {
  const prefix = `Job ${id} failed: `;
  const text = stderr.startsWith(prefix) ? stderr.slice(prefix.length) : stderr;
  return {
    text,
    prerequisites: text.startsWith("Failure: prerequisites not met for this operation:"),
  };
}

/** `gnt-instance list -o name,tags`: tags are comma-joined by gnt-instance's format override. */
export const TAG_FIELDS = ["name", "tags"] as const;

/** Parses `gnt-instance list --no-headers --separator=| -o name,tags` (no tag holds "|" or ","). */
export function parseTagList(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split(LIST_SEPARATOR);
    if (f.length !== TAG_FIELDS.length || f[0] === "" || isPlaceholder(f[0]!)) {
      throw unexpectedOutput("gnt-instance list", "expected name|tags", line);
    }
    out.set(f[0]!, splitList(f[1]!, "tags", line));
  }
  return out;
}
