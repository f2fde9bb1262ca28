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
