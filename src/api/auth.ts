// Who is asking (issue 11): the identity farmd verified (a client certificate of its CA, or the
// unix socket's peer), its role and limits. farmd decides from these, never from what a client says.
import { EXIT, FarmError } from "./errors.js";

/** In increasing power: each role may do what the ones before it may. */
export const ROLES = ["reader", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const roleAtLeast = (have: Role, need: Role): boolean =>
  ROLES.indexOf(have) >= ROLES.indexOf(need);

export interface Identity {
  /** Recorded as the owner of what it makes: "cert:<name>" (TLS) or "uid:<n>" (unix socket),
   *  "uid:?" when the socket peer's credentials could not be had; "farmd" for farmd's own work. */
  owner: string;
  role: Role;
  via: "socket" | "tls" | "farmd";
  /** An operator's allowed clone sources (glob patterns: `*` any run of characters); null = any. */
  sources: string[] | null;
  /** An operator's VM quota (VMs it owns at once); null = no limit. */
  maxVms: number | null;
}

/** farmd itself (lease expiry, recovery): admin, recorded as "farmd". */
export const FARMD: Identity = {
  owner: "farmd",
  role: "admin",
  via: "farmd",
  sources: null,
  maxVms: null,
};

/** A certificate farmd's CA issued, as its records keep it. */
export interface CertRecord {
  /** The certificate's serial, lower-case hex without colons. */
  serial: string;
  name: string;
  role: Role;
  sources: string[] | null;
  maxVms: number | null;
  /** SHA-256 of the DER, upper-case hex with colons (as Node's `fingerprint256`). */
  fingerprint: string;
  notBefore: string;
  notAfter: string;
  issuedAt: string;
  revokedAt: string | null;
}

/** One line of the audit log: a request that changes something, or was refused trying to. */
export interface AuditEntry {
  time: string;
  owner: string;
  role: Role;
  via: Identity["via"];
  method: string;
  /** The request's path, e.g. /v1/vms/gallifrey-dev/balloon. */
  route: string;
  /** The VM, operation or certificate it acts on; null when none. */
  target: string | null;
  opId: string | null;
  /** The HTTP status answered. */
  status: number;
  /** The error code when refused or failed, else null. */
  code: string | null;
}

/** Refused for want of a role or of ownership: HTTP 403, exit 77. */
export class Forbidden extends FarmError {
  constructor(message: string, hint?: string, details?: Record<string, unknown>) {
    super("forbidden", message, EXIT.noPerm, hint, details);
  }
}

/** No verified identity (unknown or revoked certificate): HTTP 401, exit 77. */
export class Unauthenticated extends FarmError {
  constructor(message: string, hint?: string) {
    super("unauthenticated", message, EXIT.noPerm, hint);
  }
}
