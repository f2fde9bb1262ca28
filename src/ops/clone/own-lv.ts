// Never write onto or remove a volume this operation did not make: it is found by the UUID it
// recorded, under whatever name it has now (Ganeti renames an adopted LV to <uuid>.disk0).
import { OperationFailed } from "../../api/errors.js";
import { opTag } from "../../host/lvm.js";
import type { LvInfo, LvmPort } from "../ports.js";
import type { StepHandle } from "../saga.js";
import type { CloneCtx } from "./steps.js";

async function findByUuid(lvm: LvmPort, vg: string, uuid: string): Promise<LvInfo | undefined> {
  return (await lvm.list(vg)).find((l) => l.uuid === uuid);
}

/** The LV this clone created, as it is now; refused when it is gone. */
export async function ownLvNow(lvm: LvmPort, target: LvInfo): Promise<LvInfo> {
  const now = await findByUuid(lvm, target.vg, target.uuid);
  if (!now)
    throw new OperationFailed(
      `the volume this clone created (${target.vg}/${target.name}, UUID ${target.uuid}) is gone`,
      "someone changed the VG during the clone; check it with lvs",
    );
  return now;
}

/** Finds the LV this operation made, by the UUID it recorded (Ganeti renames it on adoption). */
export async function lvByUuid(ctx: CloneCtx, uuid: unknown): Promise<LvInfo | undefined> {
  if (typeof uuid !== "string") return undefined;
  return findByUuid(ctx.deps.lvm, ctx.deps.config.lvm.vg, uuid);
}

/**
 * Undoes an lvcreate of `name`: by the UUID the step recorded, else (farmd died between lvcreate
 * and that record) the LV of that name only if it bears this operation's tag.
 */
export async function removeOwnLv(ctx: CloneCtx, step: StepHandle, name: string | undefined) {
  const { lvm, config } = ctx.deps;
  const stopLeftovers = { stopLeftovers: true };
  const lv = await lvByUuid(ctx, step.data.uuid);
  if (lv) return lvm.removeChecked(lv.vg, lv.name, lv.uuid, stopLeftovers);
  if (step.data.uuid !== undefined || name === undefined) return;
  const tag = opTag(ctx.opId);
  const tagged = (await lvm.list(config.lvm.vg)).find(
    (l) => l.name === name && l.tags?.includes(tag),
  );
  if (tagged) await lvm.removeChecked(tagged.vg, tagged.name, { tag }, stopLeftovers);
}

/** lvcreate options: the operation's tag, and the crash hook's "acted" point as soon as it returned. */
export const created = (ctx: CloneCtx, step: StepHandle) => ({
  tags: [opTag(ctx.opId)],
  onCreated: () => step.acted(),
});
