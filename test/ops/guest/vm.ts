// The values of the seed's clone, gallifrey-dev, as guest templates see them.
import type { GuestVm } from "../../../src/ops/guest/files.js";

export const VM: GuestVm = {
  name: "gallifrey-dev",
  group: "xivo",
  fqdn: "gallifrey-dev.xivo.vm.farm",
  ip: "10.10.60.6",
  mac: "52:54:86:b3:3f:10",
  sshPort: 22006,
  source: "gallifrey.xivo.vm.farm",
  farm: null,
  member: null,
};
