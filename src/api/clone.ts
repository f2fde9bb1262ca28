// Wire types of the clone operation, shared by cli, client and daemon.
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
  warnings: string[];
}
