// A VM's config-file entry from its names and allocation: what clone writes and destroy removes.
import type { Config } from "../config/schema.js";
import type { TemplateScope, VmEntry } from "../host/confedit/entry.js";
import type { CloneRequest } from "../api/clone.js";
import type { VmRecord } from "../state/inventory.js";
import { netmask, parseSubnet, type Allocation } from "./allocate.js";
import type { VmNames } from "./names.js";

export function vmEntry(
  names: VmNames,
  alloc: Allocation,
  webName: string | null,
  config: Config,
  scope?: TemplateScope,
): VmEntry {
  return {
    name: names.name,
    group: names.group,
    fqdn: names.fqdn,
    zoneName: names.zoneName,
    ip: alloc.ip,
    mac: alloc.mac,
    sshPort: alloc.sshPort,
    netmask: netmask(parseSubnet(config.network.subnet, config.network.gateway)),
    shorewallParam: names.shorewallParam,
    publicAddress: config.firewall.public_address,
    ...(webName ? { webName } : {}),
    ...scope,
  };
}

/** What a recorded VM's templates saw: its entries render again the same (audit --fix, undo). */
export const recordedScope = (r: Pick<VmRecord, "vars" | "farm" | "member">): TemplateScope => ({
  vars: r.vars,
  farm: r.farm,
  member: r.member,
});

/** What a clone's templates see: its --var values (a member's merged ones), its farm and member. */
export const cloneScope = (req: Pick<CloneRequest, "vars" | "farm">): TemplateScope => ({
  vars: req.vars ?? {},
  farm: req.farm?.farm ?? null,
  member: req.farm?.member ?? null,
});
