// Never write onto a volume this operation did not make: its UUID is re-checked just before.
import { OperationFailed } from "../../api/errors.js";
import type { LvInfo, LvmPort } from "../ports.js";

export async function assertOwnLv(lvm: LvmPort, target: LvInfo): Promise<void> {
  const now = (await lvm.list(target.vg)).find((l) => l.name === target.name);
  if (now?.uuid !== target.uuid)
    throw new OperationFailed(
      `volume ${target.vg}/${target.name} is not the one this clone created (UUID ${now?.uuid ?? "none"} != ${target.uuid})`,
      "someone changed the VG during the clone; check it with lvs",
    );
}
