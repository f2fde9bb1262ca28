// Wire types of the clone operation, shared by cli, client and daemon.
import type { GuestIdentity } from "./vm.js";

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
  source: string;
  /** Learnt from the guest's console after its first boot; null when not (yet) known. */
  guest: GuestIdentity | null;
  warnings: string[];
}
