// `farmctl balloon NAME SIZE`: a running VM's memory changed through its monitor, and what it reached.
import { BadInput, NotFound } from "../../api/errors.js";
import type { BalloonResult } from "../../api/vm.js";
import { checkBalloonFloor, parseSize } from "../../config/size.js";
import { listVms, type ViewDeps } from "./view.js";

export async function balloonVm(
  deps: ViewDeps,
  name: string,
  size: string,
  opts: { force?: boolean } = {},
): Promise<BalloonResult> {
  const target = parseSize(size, "SIZE");
  if (target % 2 ** 20 !== 0)
    throw new BadInput(
      `SIZE ${size} is not a whole number of MiB`,
      "give it in M or G, like 1536M or 2G",
    );
  checkBalloonFloor(target, deps.config.balloon.min, "SIZE");
  const vm = (await listVms(deps)).find((r) => r.name === name);
  if (!vm) throw new NotFound(`no VM '${name}'`, "`farmctl list` shows the VMs");
  if (vm.origin !== "farmctl" && !opts.force)
    throw new BadInput(
      `VM '${name}' (${vm.instance}) was not made by farmctl`,
      "farmctl balloons only the VMs it made; add --force to balloon this one anyway, or `farmctl import` it",
    );
  if (vm.state !== "running")
    throw new BadInput(
      `${vm.instance} is ${vm.state}, not running`,
      `start it first: gnt-instance start ${vm.instance}`,
    );
  if (vm.memoryBytes !== null && target > vm.memoryBytes) {
    throw new BadInput(
      `SIZE ${size} is more than ${vm.instance}'s memory (${vm.memoryBytes / 2 ** 20} MiB)`,
      "a balloon can only give back memory the VM has",
    );
  }
  const r = await deps.monitor.balloonAndWait(vm.instance, target, {
    timeoutMs: deps.config.balloon.timeout_ms,
  });
  if (vm.origin === "farmctl") deps.inventory.update(vm.name, { balloonBytes: r.reachedBytes });
  return {
    name,
    instance: vm.instance,
    targetBytes: target,
    reachedBytes: r.reachedBytes,
    reached: r.reached,
    ...(r.warning ? { warning: r.warning } : {}),
  };
}
