// Never write onto a volume this operation did not make: it is found by its UUID just before, under
// whatever name it has now (Ganeti renames an adopted LV to <uuid>.disk0).
import { OperationFailed } from "../../api/errors.js";
import type { LvInfo, LvmPort } from "../ports.js";

export async function ownLvNow(lvm: LvmPort, target: LvInfo): Promise<LvInfo> {
  const now = (await lvm.list(target.vg)).find((l) => l.uuid === target.uuid);
  if (!now)
    throw new OperationFailed(
      `the volume this clone created (${target.vg}/${target.name}, UUID ${target.uuid}) is gone`,
      "someone changed the VG during the clone; check it with lvs",
    );
  return now;
}
