// Wire types of the clone operation, shared by cli, client and daemon.
import type { CopyThrottle } from "./events.js";
import type { MemberSpec } from "./farm.js";
import type { StepTime } from "./step-times.js";
import type { GuestIdentity } from "./vm.js";

/** A farm member's clone: recorded with the reservation and tagged in Ganeti (issue 10). */
export interface FarmMembership {
  farm: string;
  /** Its key in the spec (`[members.<key>]`). */
  member: string;
  spec: MemberSpec;
  /** ResolvedFarm.specHash it was made from. */
  specHash: string;
}

export interface CloneRequest {
  source: string;
  name: string;
  group?: string;
  memory?: string;
  balloon?: string;
  ip?: string;
  mac?: string;
  sshPort?: number;
  /** nginx server_name; null = no web entry (--no-web); undefined = <name>.<public_domain>. */
  web?: string | null;
  start?: boolean;
  /** Variables the guest's file templates see as vars.<key> (--var key=value). */
  vars?: Record<string, string>;
  /** false: the guest is left as the source's (--no-customize). */
  customize?: boolean;
  /** --lease 2h: farmd destroys the VM that long after the clone succeeded; absent: no lease. */
  lease?: string;
  /** The copy's write limit, a size per second like "100M" (--bwlimit); "0": none; absent: [copy] bwlimit. */
  bwlimit?: string;
  /** Set by farmd's farm operations only: never accepted from POST /v1/clone (cloneBody). */
  farm?: FarmMembership;
}

/** What the customize step did inside the guest; null fields are learnt after the first boot. */
export interface GuestResult {
  /** The operations run ([guest] customize); empty when the step was skipped. */
  operations: string[];
  /** Why nothing was done (--no-customize, no Linux found), else null. */
  skipped: string | null;
  hostname: string | null;
  /** Paths written from [guest.files] templates. */
  files: string[];
  machineId: string | null;
  sshHostKeys: HostKeyFingerprint[] | null;
}

/** One line of `ssh-keygen -lf`: "256 SHA256:... root@host (ED25519)". */
export interface HostKeyFingerprint {
  bits: number;
  fingerprint: string;
  comment: string;
  type: string;
}

/** How the disk copy went: dd's own figures, and the throttle that held it. */
export interface CopyReport {
  bytes: number;
  ms: number;
  rateBytesPerSec: number;
  throttle: CopyThrottle | null;
}

export interface CloneResult {
  opId: string;
  name: string;
  group: string;
  instance: string;
  ip: string;
  mac: string;
  sshPort: number;
  webName: string | null;
  memoryBytes: number;
  balloonTargetBytes: number;
  balloonReachedBytes: number | null;
  lv: string | null;
  lvUuid: string | null;
  diskBytes: number;
  /** Null when the clone stopped before its copy ended, or was resumed after it (the figures are not journaled). */
  copy: CopyReport | null;
  source: string;
  /** Null when the clone stopped before the customize step. */
  guest: GuestResult | null;
  /** When its lease runs out (ISO 8601); null without --lease, or before the clone ended. */
  expiresAt: string | null;
  warnings: string[];
  /** When each step ran (from the journal); absent in a dry run's plan. */
  steps?: StepTime[];
}
