// `farm up`'s check of the whole farm before any copy: every source exists and is plain, every name
// is free or already this farm's, the subnet has an address for each new member, and the VG holds
// every new disk plus the snapshots that exist at once (every clone takes its snapshot at its start).
import type { FarmAction, ResolvedFarm } from "../../api/farm.js";
import { AlreadyExists, asFarmError, Unavailable, type ErrorJson } from "../../api/errors.js";
import { sshPorts } from "../../config/schema.js";
import { formatSize, parseSize } from "../../config/size.js";
import { allocate, parseSubnet, type InUse } from "../allocate.js";
import { findSource, preflight } from "../clone/preflight.js";
import type { CloneDeps } from "../clone/steps.js";
import { memberClone } from "./member-clone.js";

/** A member that cannot come up, and why (its clone's own preflight refusal, or the planner's). */
export interface MemberProblem {
  member: string;
  name: string;
  error: ErrorJson;
}

interface Need {
  member: string;
  /** Bytes the VG gives up while this member is made: its disk (less a replaced one's) + snapshot. */
  bytes: number;
  /** A create takes a new address; a replace reuses the one its destroy frees. */
  address: boolean;
}

export interface FarmCheck {
  problems: MemberProblem[];
  /** The address and SSH port each new member would get, allocated in turn (a dry run shows them). */
  picks: Record<string, { ip: string; sshPort: number }>;
}

/**
 * Checks each member the plan creates or replaces, then the farm as a whole. A member's problem
 * is returned (the caller decides per on_error); a farm-wide shortage is thrown.
 */
export async function checkFarm(
  farm: ResolvedFarm,
  actions: FarmAction[],
  deps: CloneDeps,
): Promise<FarmCheck> {
  const problems: MemberProblem[] = [];
  const needs: Need[] = [];
  let used: InUse | undefined;
  const snapshotBytes = parseSize(deps.config.lvm.snapshot_size, "[lvm] snapshot_size");
  const instances = await deps.ganeti.listInstances();
  for (const a of actions) {
    const m = farm.members.find((x) => x.key === a.member);
    const fail = (err: unknown) =>
      problems.push({ member: a.member, name: a.name, error: asFarmError(err).toJSON() });
    if (a.action === "refuse") fail(new AlreadyExists(a.reason, "give the member another name"));
    if (!m || (a.action !== "create" && a.action !== "replace")) continue;
    try {
      if (a.action === "create") {
        const facts = await preflight(memberClone(farm, m), deps);
        used ??= facts.used;
        needs.push({
          member: m.key,
          bytes: facts.source.sizeBytes + snapshotBytes,
          address: true,
        });
      } else {
        // The name is this farm's (its destroy comes first): only the source is checked here.
        const source = await findSource(memberClone(farm, m), instances, deps);
        const old = deps.inventory.get(a.name)?.diskBytes ?? 0;
        needs.push({
          member: m.key,
          bytes: Math.max(0, source.sizeBytes - old) + snapshotBytes,
          address: false,
        });
      }
    } catch (err) {
      fail(err);
    }
  }
  await checkSpace(farm, needs, deps);
  const fresh = needs.filter((n) => n.address).map((n) => n.member);
  const picks = used ? checkAddresses(farm, fresh, used, deps) : {};
  return { problems, picks };
}

async function checkSpace(farm: ResolvedFarm, needs: Need[], deps: CloneDeps): Promise<void> {
  const total = needs.reduce((n, x) => n + x.bytes, 0);
  const vg = await deps.lvm.vgInfo(deps.config.lvm.vg);
  if (vg.freeBytes < total)
    throw new Unavailable(
      `volume group '${deps.config.lvm.vg}' has ${formatSize(vg.freeBytes)} free; farm '${farm.name}' needs ${formatSize(total)} ` +
        `for ${needs.length} new disk(s) and their snapshots (${deps.config.lvm.snapshot_size} each, all at once)`,
      "free space in the VG (destroy unused VMs), or bring the farm up one platform at a time with --platform",
      { needBytes: total, freeBytes: vg.freeBytes },
    );
}

/** Allocates an address for each new member in turn against what is in use: all must fit. */
function checkAddresses(
  farm: ResolvedFarm,
  members: string[],
  used: InUse,
  deps: CloneDeps,
): FarmCheck["picks"] {
  const count = members.length;
  const picks: FarmCheck["picks"] = {};
  const { config } = deps;
  const held = deps.inventory.held();
  const ips = new Map([...held.ips, ...used.ips]);
  const ports = new Map([...held.ports, ...used.ports]);
  const macs = new Set([...used.macs, ...held.macs]);
  const subnet = parseSubnet(config.network.subnet, config.network.gateway);
  const policy = { range: sshPorts(config.firewall), base: config.firewall.ssh_port_base };
  for (let i = 0; i < count; i++) {
    try {
      const a = allocate({}, subnet, { ips, macs, ports }, policy);
      picks[members[i]!] = { ip: a.ip, sshPort: a.sshPort };
      ips.set(a.ip, `farm ${farm.name}`);
      ports.set(a.sshPort, `farm ${farm.name}`);
      macs.add(a.mac);
    } catch (err) {
      throw new Unavailable(
        `farm '${farm.name}' needs ${count} new address(es) and SSH port(s); only ${i} are free: ${asFarmError(err).message}`,
        asFarmError(err).hint ?? "destroy unused VMs",
        { need: count, free: i },
      );
    }
  }
  return picks;
}
