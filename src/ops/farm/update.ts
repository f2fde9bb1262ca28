// A member updated in place: its memory (`gnt-instance modify -B memory=`, then the balloon), its
// balloon, its variables and record-only fields (protect, platform). New variables re-render the
// host's blocks whose templates use them (rerender.ts), first, as the one step that can be undone;
// files rendered into the guest at clone keep their values until the member is replaced (a warning).
import type { MemberOutcome, MemberSpec, ResolvedFarm } from "../../api/farm.js";
import { asFarmError } from "../../api/errors.js";
import { formatSize, parseSize } from "../../config/size.js";
import type { VmRecord } from "../../state/inventory.js";
import { balloonVm } from "../inventory/balloon.js";
import { announce, outcome, type FarmRun, type MemberRef } from "./members.js";
import { rerenderHost, rerenderNote, type Rerendered } from "./rerender.js";

export async function updateInPlace(
  run: FarmRun,
  ref: MemberRef,
  spec: MemberSpec,
  farm: ResolvedFarm,
): Promise<MemberOutcome> {
  const { deps } = run;
  const { config, inventory, events } = deps;
  announce(run, { ...ref, opId: null });
  try {
    const vm = inventory.get(ref.name);
    const recorded = inventory.members(farm.name).find((m) => m.member === ref.member);
    if (!vm || !recorded) throw new Error(`${ref.name} has no record as member '${ref.member}'`);
    const memoryBytes = parseSize(spec.memory ?? config.ganeti.memory, "memory");
    const balloonBytes = parseSize(spec.balloon ?? config.balloon.target, "balloon");
    const warnings: string[] = [];
    const changed = changedVars(vm.vars, spec.vars);
    let rerendered: Rerendered | null = null;
    if (changed.length) {
      rerendered = await rerenderHost(run, ref.member, vm, spec.vars);
      if (Object.keys(config.guest.files).length)
        warnings.push(
          `${ref.name}: the guest's files (${Object.keys(config.guest.files).join(", ")}) were rendered at clone with the old variables; replace the member to render them again`,
        );
    }
    try {
      const reached = await resize(run, ref, vm, memoryBytes, balloonBytes, warnings);
      inventory.updateMember(ref.name, {
        spec,
        specHash: farm.specHash,
        vars: spec.vars,
        memoryBytes,
        ...(reached !== undefined ? { balloonBytes: reached } : {}),
      });
      rerendered?.recorded();
    } catch (err) {
      // The host's blocks follow the record: a member not updated keeps its old ones.
      await rerendered?.undo().catch((undo: unknown) => {
        throw new Error(`${asFarmError(err).message}; ${asFarmError(undo).message}`);
      });
      throw err;
    }
    for (const message of warnings) events({ type: "warning", message });
    if (rerendered) {
      const note = rerenderNote(rerendered.families);
      events({
        type: "info",
        message: `${ref.name}: variables ${changed.join(", ")} changed: ${note}`,
      });
      return { ...outcome(ref, "done", null, null), note };
    }
    return outcome(ref, "done", null, null);
  } catch (err) {
    return outcome(ref, "failed", null, asFarmError(err).message);
  }
}

/** The new memory (`gnt-instance modify -B`) and balloon; the balloon reached, when it ran. */
async function resize(
  run: FarmRun,
  ref: MemberRef,
  vm: VmRecord,
  memoryBytes: number,
  balloonBytes: number,
  warnings: string[],
): Promise<number | null | undefined> {
  const { deps } = run;
  const memoryChanged = vm.memoryBytes !== memoryBytes;
  if (memoryChanged) {
    const memory = `${memoryBytes / 2 ** 20}M`;
    deps.events({
      type: "info",
      message: `${ref.name}: memory ${vm.memoryBytes === null ? "?" : formatSize(vm.memoryBytes)} -> ${formatSize(memoryBytes)} (gnt-instance modify -B memory=${memory})`,
    });
    await deps.ganeti.setMemory(vm.fqdn, memory);
    warnings.push(
      `${ref.name}: the new memory size takes effect when Ganeti next starts the instance (gnt-instance reboot ${vm.fqdn}); until then the balloon works within the old one`,
    );
  }
  const running = (await deps.ganeti.listInstances()).some(
    (i) => i.name === vm.fqdn && i.status === "running",
  );
  if (!running || (!memoryChanged && vm.balloonBytes === balloonBytes)) return undefined;
  const b = await balloonVm(deps, ref.name, formatSize(balloonBytes));
  if (b.warning) warnings.push(b.warning);
  return b.reachedBytes;
}

/** The variables whose values differ (added, removed or changed), sorted. */
function changedVars(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}
