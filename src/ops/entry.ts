// A VM's config-file entry from its names and allocation: what clone writes and destroy removes.
import type { Config } from "../config/schema.js";
import type { VmEntry } from "../host/confedit/entry.js";
import { netmask, parseSubnet, type Allocation } from "./allocate.js";
import type { VmNames } from "./names.js";

export function vmEntry(
  names: VmNames,
  alloc: Allocation,
  webName: string | null,
  config: Config,
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
  };
}
