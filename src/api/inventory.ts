// Wire types of the inventory views: list, show, audit.
import type { SshHostKey } from "./vm.js";

export interface VmRow {
  name: string;
  group: string;
  instance: string;
  /** Ganeti's status (running, ADMIN_down, ...), or "missing" when Ganeti has no such instance. */
  state: string;
  ip: string | null;
  mac: string | null;
  sshPort: number | null;
  webName: string | null;
  memoryBytes: number | null;
  balloonBytes: number | null;
  lv: string | null;
  diskBytes: number | null;
  source: string | null;
  created: string | null;
  /** "farmctl" for VMs in the inventory, "hand-made" for those learned from Ganeti and the files. */
  origin: "farmctl" | "hand-made";
  /** The guest's own hostname and machine-id, learnt from its console after first boot. */
  hostname: string | null;
  machineId: string | null;
  /** The staging farm and member key it belongs to (issue 10); null for a VM of no farm. */
  farm: string | null;
  member: string | null;
  /** Who made it (Identity.owner: "uid:<n>", "cert:<name>"); null for hand-made VMs and old ones. */
  owner: string | null;
  /** When its lease runs out and farmd destroys it (ISO 8601); null: no lease. */
  expiresAt: string | null;
}

/** The fields of `farmctl list -o`: the JSON keys of a VmRow, one naming for the table and --json. */
export const LIST_FIELDS = [
  "name",
  "group",
  "instance",
  "state",
  "ip",
  "mac",
  "sshPort",
  "webName",
  "memoryBytes",
  "balloonBytes",
  "lv",
  "diskBytes",
  "source",
  "created",
  "origin",
  "hostname",
  "machineId",
  "farm",
  "member",
  "owner",
  "expiresAt",
] as const satisfies readonly (keyof VmRow)[];
export type ListField = (typeof LIST_FIELDS)[number];

export interface VmDetail {
  vm: VmRow;
  /** The exact lines of each config file that belong to the VM. */
  files: { family: string; path: string; text: string; farmctl: boolean }[];
  operations: { id: string; kind: string; state: string; createdAt: string }[];
  /** What the guest holds right now, from the monitor; null when not running or no balloon. */
  liveBalloonBytes: number | null;
  /** The guest's SSH host keys printed at its first boot; null when never learnt. */
  sshHostKeys: SshHostKey[] | null;
  /** The variables its templates saw (a farm member's, or its --var values); {} when none. */
  vars: Record<string, string>;
}

export type Severity = "error" | "warning" | "info";

export interface Finding {
  severity: Severity;
  /** Stable code, e.g. "entry-missing", "value-mismatch", "snapshot-left". */
  code: string;
  vm: string | null;
  message: string;
  fix: string;
  /** What `audit --fix` would do about it; absent = needs a person. */
  repair?:
    | { action: "add-entry"; family: string; vm: string }
    | { action: "remove-snapshot"; vg: string; lv: string; uuid: string };
}

export interface AuditReport {
  clean: boolean;
  findings: Finding[];
  repaired: Finding[];
}
