// A member updated in place: its memory (`gnt-instance modify -B memory=`, then the balloon), its
// balloon, its variables and record-only fields (protect, platform). Variables are recorded: the
// host's entries are rendered from the VM's name, address and port, not from them; files rendered
// into the guest at clone keep their values until the member is replaced (said as a warning).
import type { MemberOutcome, MemberSpec, ResolvedFarm } from "../../api/farm.js";
import { asFarmError } from "../../api/errors.js";
import { formatSize, parseSize } from "../../config/size.js";
import { balloonVm } from "../inventory/balloon.js";
import { announce, outcome, type FarmRun, type MemberRef } from "./members.js";

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
    const memoryChanged = vm.memoryBytes !== memoryBytes;
    const warnings: string[] = [];
    if (memoryChanged) {
      const memory = `${memoryBytes / 2 ** 20}M`;
      events({
        type: "info",
        message: `${ref.name}: memory ${vm.memoryBytes === null ? "?" : formatSize(vm.memoryBytes)} -> ${formatSize(memoryBytes)} (gnt-instance modify -B memory=${memory})`,
      });
      await deps.ganeti.setMemory(vm.fqdn, memory);
      warnings.push(
        `${ref.name}: the new memory size takes effect when Ganeti next starts the instance (gnt-instance reboot ${vm.fqdn}); until then the balloon works within the old one`,
      );
    }
    let reached: number | null | undefined;
    const running = (await deps.ganeti.listInstances()).some(
      (i) => i.name === vm.fqdn && i.status === "running",
    );
    if (running && (memoryChanged || vm.balloonBytes !== balloonBytes)) {
      const b = await balloonVm(deps, ref.name, formatSize(balloonBytes));
      reached = b.reachedBytes;
      if (b.warning) warnings.push(b.warning);
    }
    if (varsChanged(recorded.spec.vars, spec.vars) && Object.keys(config.guest.files).length)
      warnings.push(
        `${ref.name}: the guest's files (${Object.keys(config.guest.files).join(", ")}) were rendered at clone with the old variables; replace the member to render them again`,
      );
    inventory.updateMember(ref.name, {
      spec,
      specHash: farm.specHash,
      vars: spec.vars,
      memoryBytes,
      ...(reached !== undefined ? { balloonBytes: reached } : {}),
    });
    for (const message of warnings) events({ type: "warning", message });
    return outcome(ref, "done", null, null);
  } catch (err) {
    return outcome(ref, "failed", null, asFarmError(err).message);
  }
}

function varsChanged(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].some((k) => a[k] !== b[k]);
}
