// Wire types of the destroy operation.
export interface DestroyRequest {
  name: string;
  /** Destroy a VM farmctl did not make (learned from Ganeti). */
  force?: boolean;
}

export interface DestroyResult {
  opId: string;
  name: string;
  instance: string;
  ip: string | null;
  /** The disk Ganeti removed with the instance. */
  lv: string | null;
  madeByFarmctl: boolean;
  /** Hand-written lines farmctl leaves for the admin (entries of a VM it did not make). */
  leftInFiles: string[];
  warnings: string[];
}
