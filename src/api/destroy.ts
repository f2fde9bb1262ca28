// Wire types of the destroy operation.
export interface DestroyRequest {
  name: string;
  /** Destroy a VM farmctl did not make (learned from Ganeti). */
  force?: boolean;
  /** Set by farmd's lease reaper only (never from POST /v1/destroy): refused unless the VM's lease
   *  has still run out when the destroy is admitted, so a renew that came first wins. */
  expiredLease?: boolean;
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
