// What an identity may do beyond its route's least role (issue 11): an operator clones from its
// allowed sources within its quota, and touches only what it owns; --force, VMs farmctl did not
// make, other owners' VMs and operations are admin's. Each refusal names what is needed and the fix.
import { Forbidden, type Identity } from "../api/auth.js";
import type { CloneRequest } from "../api/clone.js";
import type { DestroyRequest } from "../api/destroy.js";
import type { FarmDownRequest, FarmUpRequest } from "../api/farm.js";
import type { OperationRecord } from "../api/operations.js";
import { resolveFarm } from "../ops/farm/resolve.js";
import type { Farms } from "../state/farms.js";
import type { Inventory, VmRecord } from "../state/inventory.js";
import type { Journal } from "../state/journal.js";

export interface AuthzState {
  inventory: Inventory;
  journal: Journal;
  farms: Farms;
}

const ADMIN_HINT = "ask an admin of this farmd to do it, or for a certificate with role admin";

const isAdmin = (who: Identity) => who.role === "admin";

/** A source pattern: `*` stands for any run of characters, everything else for itself. */
export function globMatch(pattern: string, name: string): boolean {
  const re = pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
  return new RegExp(`^${re.join(".*")}$`).test(name);
}

function needAdmin(who: Identity, what: string): void {
  if (!isAdmin(who))
    throw new Forbidden(`${what} needs role admin; ${who.owner} has role ${who.role}`, ADMIN_HINT, {
      role: "admin",
    });
}

function checkSource(who: Identity, source: string): void {
  if (who.sources === null || who.sources.some((p) => globMatch(p, source))) return;
  throw new Forbidden(
    `${who.owner} may clone only from ${who.sources.join(", ")}, not from '${source}'`,
    "clone one of those, or ask an admin for a certificate whose --sources include it",
    { source, sources: who.sources },
  );
}

/** The VMs an owner holds: those it owns in the inventory and those its running clones make. */
export function ownedCount(who: Identity, s: AuthzState): number {
  const names = new Set(s.inventory.list().flatMap((v) => (v.owner === who.owner ? [v.name] : [])));
  for (const op of s.journal.live())
    if (op.kind === "clone" && op.owner === who.owner) names.add(op.target);
  return names.size;
}

function checkQuota(who: Identity, s: AuthzState, adding: number): void {
  if (who.maxVms === null || adding === 0) return;
  const owned = ownedCount(who, s);
  if (owned + adding <= who.maxVms) return;
  throw new Forbidden(
    `${who.owner} owns ${owned} VM(s) and may own ${who.maxVms}: ${adding} more would exceed its quota`,
    "destroy one of its VMs first (`farmctl list -o name,owner`), or ask an admin for a larger --max-vms",
    { owned, maxVms: who.maxVms },
  );
}

const ownerName = (owner: string | null) => owner ?? "nobody (made before owners were kept)";

/** destroy, balloon, renew: the VM's owner or an admin; a VM farmctl did not make is admin's. */
export function checkVmOwner(who: Identity, vm: VmRecord | null, name: string, action: string) {
  if (isAdmin(who)) return;
  if (!vm) return needAdmin(who, `${action} of VM '${name}' (not made by farmctl)`);
  if (vm.owner !== who.owner)
    throw new Forbidden(
      `VM '${name}' belongs to ${ownerName(vm.owner)}: ${action} needs that owner or role admin; ${who.owner} has role ${who.role}`,
      `ask ${ownerName(vm.owner)} or an admin of this farmd to do it`,
      { owner: vm.owner, role: "admin" },
    );
}

/** cancel: the operation's owner (a farm's members are the farm operation's) or an admin. */
export function checkOpOwner(who: Identity, op: OperationRecord): void {
  if (isAdmin(who) || op.owner === who.owner) return;
  throw new Forbidden(
    `operation ${op.id} was started by ${ownerName(op.owner)}: cancelling it needs that owner or role admin; ${who.owner} has role ${who.role}`,
    `ask ${ownerName(op.owner)} or an admin of this farmd to cancel it`,
    { owner: op.owner, role: "admin" },
  );
}

/** A farm is its first up's owner's; one without a record, its members' owner's. */
function checkFarmOwner(who: Identity, s: AuthzState, farm: string, action: string): void {
  const record = s.farms.get(farm);
  const owners = record
    ? [record.owner]
    : s.inventory.members(farm).map((m) => s.inventory.get(m.name)?.owner ?? null);
  const other = owners.find((o) => o !== who.owner);
  if (other === undefined) return;
  throw new Forbidden(
    `farm '${farm}' belongs to ${ownerName(other)}: ${action} needs that owner or role admin; ${who.owner} has role ${who.role}`,
    `ask ${ownerName(other)} or an admin of this farmd, or up a farm of another name`,
    { owner: other, role: "admin" },
  );
}

/** Before an operation starts (or is planned): the checks of its kind for this identity. */
export function authorizeStart(kind: string, req: object, who: Identity, s: AuthzState): void {
  if (isAdmin(who)) return;
  if (kind === "clone") {
    const r = req as CloneRequest;
    checkSource(who, r.source);
    return checkQuota(who, s, s.inventory.get(r.name) ? 0 : 1);
  }
  if (kind === "destroy") {
    const r = req as DestroyRequest;
    if (r.force) needAdmin(who, "destroy --force");
    return checkVmOwner(who, s.inventory.get(r.name), r.name, "destroy");
  }
  if (kind === "farm-up") {
    const farm = resolveFarm(req as FarmUpRequest);
    checkFarmOwner(who, s, farm.name, "farm up");
    for (const m of farm.members) checkSource(who, m.source);
    const { platform } = req as FarmUpRequest;
    const fresh = farm.members.filter(
      (m) => (platform === null || m.platform === platform) && !s.inventory.get(m.name),
    );
    return checkQuota(who, s, fresh.length);
  }
  if (kind === "farm-down") {
    const r = req as FarmDownRequest;
    if (r.force) needAdmin(who, "farm down --force (protected members)");
    return checkFarmOwner(who, s, r.name, "farm down");
  }
  needAdmin(who, kind);
}

export function authorizeAuditFix(who: Identity): void {
  needAdmin(who, "audit --fix");
}

export function authorizeBalloon(who: Identity, s: AuthzState, name: string, force: boolean) {
  if (force) needAdmin(who, "balloon --force");
  checkVmOwner(who, s.inventory.get(name), name, "balloon");
}
