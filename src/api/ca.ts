// farmd's certificate authority (issue 11): what a client asks of it, what it answers, and the
// checks of a request, shared by farmd and farmctl (which checks before writing any file).
import { ROLES, type CertRecord, type Role } from "./auth.js";
import { BadInput } from "./errors.js";

/** A certificate's name: its identity "cert:<name>" and the file names farmctl writes. */
export const CERT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
/** A clone source an operator may use: a VM name, `*` standing for any run of characters. */
export const SOURCE_PATTERN = /^[a-z0-9*][a-z0-9.*-]{0,62}$/;
export const DEFAULT_DAYS = 365;
export const MAX_DAYS = 3650;
export const MAX_VMS = 10000;
const MAX_SOURCES = 100;

export interface IssueRequest {
  name: string;
  role: Role;
  days?: number;
  sources?: string[] | null;
  maxVms?: number | null;
}

/** An issue request as checked: every field present. */
export interface CheckedIssue {
  name: string;
  role: Role;
  days: number;
  sources: string[] | null;
  maxVms: number | null;
}

export interface IssuedCert {
  record: CertRecord;
  /** The client's certificate followed by farmd's CA certificate. */
  certPem: string;
  keyPem: string;
  caPem: string;
}

export interface CaInitResult {
  created: boolean;
  /** SHA-256 of the CA certificate's DER, upper-case hex with colons. */
  fingerprint: string;
  caPem: string;
  /** What [api] listen did once this init made the CA; absent when listen is off or the CA existed. */
  listener?: CaListener;
}

/** farmd's TLS listener started by `ca init`: its URL, or why it could not listen (farmd runs on). */
export type CaListener = { url: string } | { error: string };

export interface CaSummary {
  fingerprint: string;
  subject: string;
  notAfter: string;
}

export interface CaListing {
  /** null until `farmctl ca init`. */
  ca: CaSummary | null;
  certificates: CertRecord[];
}

export function checkCertName(name: string): string {
  if (!CERT_NAME.test(name))
    throw new BadInput(
      `certificate name '${name}' is not valid`,
      "use 1 to 63 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (like 'ci-runner')",
      { field: "name" },
    );
  return name;
}

/** Refuses a request farmd's CA would not issue; nothing is written before this passed. */
export function checkIssue(r: IssueRequest): CheckedIssue {
  checkCertName(r.name);
  if (!(ROLES as readonly string[]).includes(r.role))
    throw new BadInput(`role '${r.role}' is not a role`, `give one of: ${ROLES.join(", ")}`, {
      field: "role",
    });
  const days = r.days ?? DEFAULT_DAYS;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new BadInput(
      `${days} days is not a validity farmd's CA issues`,
      `give a whole number of days from 1 to ${MAX_DAYS} (default ${DEFAULT_DAYS})`,
      { field: "days" },
    );
  const sources = r.sources ?? null;
  const maxVms = r.maxVms ?? null;
  if (r.role !== "operator" && (sources !== null || maxVms !== null))
    throw new BadInput(
      `--sources and --max-vms limit an operator, not a${r.role === "admin" ? "n" : ""} ${r.role}`,
      "leave them out, or give --role operator",
      { field: sources !== null ? "sources" : "maxVms" },
    );
  if (sources !== null) checkSources(sources);
  if (maxVms !== null && (!Number.isInteger(maxVms) || maxVms < 1 || maxVms > MAX_VMS))
    throw new BadInput(
      `--max-vms ${maxVms} is not a VM quota`,
      `give a whole number from 1 to ${MAX_VMS}, or leave it out for no quota`,
      { field: "maxVms" },
    );
  return { name: r.name, role: r.role, days, sources, maxVms };
}

function checkSources(sources: string[]): void {
  if (sources.length === 0 || sources.length > MAX_SOURCES)
    throw new BadInput(
      `--sources gives ${sources.length} patterns`,
      `give 1 to ${MAX_SOURCES} VM names or patterns, like gallifrey,builder-*; leave it out for any source`,
      { field: "sources" },
    );
  for (const s of sources)
    if (!SOURCE_PATTERN.test(s))
      throw new BadInput(
        `source pattern '${s}' is not a VM name or pattern`,
        "use lowercase letters, digits, '.', '-' and '*' for any run of characters, like builder-*",
        { field: "sources" },
      );
}

/** A certificate's state as `farmctl ca list` shows it. */
export function certStatus(c: CertRecord, now = new Date()): "active" | "revoked" | "expired" {
  if (c.revokedAt) return "revoked";
  return Date.parse(c.notAfter) <= now.getTime() ? "expired" : "active";
}
