// `wait = "ssh"`: a member counts as up once its SSH server answers. farmd probes the address the
// member's DNAT rule forwards to (its own address, port 22): shorewall applies a `net` zone DNAT
// only to packets that arrive from outside, never to the host's own connections to its public
// address; that the rule for the member's port is in place is read from the rules file.
import type { CloneResult } from "../../api/clone.js";
import type { FarmRun } from "./members.js";

const PROBE_MS = 3000;
const PAUSE_MS = 1000;

/** Null once the member's SSH answers; else why it does not, after `timeoutSec` at most. */
export async function waitForSsh(
  run: FarmRun,
  vm: CloneResult,
  timeoutSec: number,
): Promise<string | null> {
  const { deps } = run;
  const ports = (await deps.families.firewall.usage()).ports;
  if (!ports.includes(vm.sshPort))
    return `no DNAT rule forwards port ${vm.sshPort} to ${vm.name} in ${deps.config.firewall.rules}`;
  const deadline = Date.now() + timeoutSec * 1000;
  deps.events({
    type: "info",
    message: `waiting for SSH on ${vm.name} (${vm.ip}:22, public port ${vm.sshPort}), up to ${timeoutSec}s`,
  });
  for (;;) {
    if (run.signal?.aborted) return "cancelled while waiting for SSH";
    const left = deadline - Date.now();
    if (await deps.tcpProbe(vm.ip, 22, Math.max(1, Math.min(PROBE_MS, left)))) return null;
    if (Date.now() >= deadline)
      return `${vm.name} did not answer on SSH (${vm.ip}:22, public port ${vm.sshPort}) within ${timeoutSec}s ([run] wait_timeout): check its console (gnt-instance console ${vm.instance})`;
    await new Promise((r) => setTimeout(r, Math.min(PAUSE_MS, Math.max(0, deadline - Date.now()))));
  }
}
