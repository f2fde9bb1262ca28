// Wire types of import and balloon.
export interface ImportRequest {
  /** Short name of a VM made by hand, e.g. gallifrey. */
  name: string;
}

export interface ImportResult {
  opId: string;
  name: string;
  instance: string;
  ip: string;
  mac: string;
  sshPort: number;
  webName: string | null;
}

export interface BalloonResult {
  name: string;
  instance: string;
  targetBytes: number;
  reachedBytes: number | null;
  reached: boolean;
  warning?: string;
}

/** What `farmctl renew` answers: the lease's new end, and the one it replaced. */
export interface RenewResult {
  name: string;
  instance: string;
  /** ISO 8601. */
  expiresAt: string;
  previousExpiresAt: string;
}

/** One SSH host key as `ssh-keygen -lf` prints it: `256 SHA256:... root@host (ED25519)`. */
export interface SshHostKey {
  bits: number;
  fingerprint: string;
  comment: string;
  type: string;
}

/** Who the guest says it is after its first boot (issue 9); null where not learnt. */
export interface GuestIdentity {
  hostname: string | null;
  machineId: string | null;
  sshHostKeys: SshHostKey[];
}
