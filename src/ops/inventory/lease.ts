// Leases (clone --lease, renew): how long a builder VM may live before farmd destroys it.
import { BadInput, Busy, NotFound } from "../../api/errors.js";
import type { RenewResult } from "../../api/vm.js";
import type { Config } from "../../config/schema.js";
import { formatDuration, parseDuration } from "../../config/duration.js";
import type { Inventory, VmRecord } from "../../state/inventory.js";
import type { Journal } from "../../state/journal.js";

/** The lease asked for, in ms; refused when it is not a duration or longer than [leases] max. */
export function leaseMs(text: string, config: Config): number {
  const ms = parseDuration(text, "lease");
  const max = config.leases.max;
  if (ms > max)
    throw new BadInput(
      `lease ${text} is longer than [leases] max (${formatDuration(max)})`,
      `ask for at most ${formatDuration(max)} and renew it before it ends (farmctl renew), or raise [leases] max in farmd.toml`,
    );
  return ms;
}

/** The lease's end if it started at `now` (ms since the epoch). */
export const expiryAfter = (text: string, config: Config, now = Date.now()): string =>
  new Date(now + leaseMs(text, config)).toISOString();

/** Whether the lease has run out at `now`; an unreadable date never counts as run out. */
export function leaseRanOut(expiresAt: string | null, now = Date.now()): boolean {
  if (expiresAt === null) return false;
  const end = Date.parse(expiresAt);
  return Number.isFinite(end) && end <= now;
}

export interface LeaseDeps {
  config: Config;
  inventory: Inventory;
  journal: Journal;
}

/** The destroy (or other operation) in flight on a VM; null when none. */
export function busyWith(journal: Journal, name: string) {
  return journal.live().find((o) => o.target === name) ?? null;
}

/** `farmctl renew NAME DURATION`: the lease now ends DURATION from now. */
export function renewLease(
  deps: LeaseDeps,
  name: string,
  lease: string,
  now = Date.now(),
): RenewResult {
  const expiresAt = expiryAfter(lease, deps.config, now);
  const vm = leasedVm(deps.inventory, name);
  const op = busyWith(deps.journal, name);
  if (op)
    throw new Busy(
      `VM '${name}' is busy: operation ${op.id} (${op.kind}) is ${op.state} on it`,
      op.kind === "destroy"
        ? "its destroy has begun: a lease cannot be renewed any more"
        : `renew it once \`farmctl ops ${op.id}\` shows it ended`,
      { opId: op.id },
    );
  deps.inventory.update(name, { expiresAt });
  return { name, instance: vm.fqdn, expiresAt, previousExpiresAt: vm.expiresAt };
}

/** A VM of the inventory that has a lease; anything else is refused, naming why. */
function leasedVm(inventory: Inventory, name: string): VmRecord & { expiresAt: string } {
  const vm = inventory.get(name);
  if (!vm)
    throw new NotFound(
      `no VM '${name}' in farmctl's inventory`,
      "only VMs farmctl cloned have leases; `farmctl list` shows the VMs",
    );
  if (vm.state !== "ready")
    throw new Busy(
      `VM '${name}' is still being cloned (operation ${vm.opId})`,
      "its lease starts when the clone ends; renew it after that",
      { opId: vm.opId },
    );
  if (vm.expiresAt === null)
    throw new BadInput(
      `VM '${name}' has no lease: it stays until it is destroyed`,
      "only a VM cloned with --lease can be renewed",
    );
  return vm as VmRecord & { expiresAt: string };
}
