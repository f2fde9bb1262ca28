// Address, MAC and SSH port allocation: pure decisions over the sets of values already in use.
import { randomBytes } from "node:crypto";
import { Address4 } from "ip-address";
import { AlreadyExists, BadInput } from "../api/errors.js";

/** What is taken, and for addresses and ports who holds it (named in refusals). */
export interface InUse {
  ips: ReadonlyMap<string, string>;
  macs: ReadonlySet<string>;
  ports: ReadonlyMap<number, string>;
}

/** The SSH ports farmctl may forward ([firewall] ssh_ports). */
export interface PortRange {
  first: number;
  last: number;
}

export interface Subnet {
  cidr: string;
  network: Address4;
  /** Numeric first and last host addresses (network and broadcast excluded). */
  first: bigint;
  last: bigint;
  gateway: string;
}

export function parseSubnet(cidr: string, gateway?: string): Subnet {
  if (!Address4.isValid(cidr) || !cidr.includes("/")) {
    throw new BadInput(
      `[network] subnet '${cidr}' is not an IPv4 network`,
      "write it like 10.10.60.0/24",
    );
  }
  const network = new Address4(cidr);
  if (network.subnetMask > 30)
    throw new BadInput(
      `[network] subnet '${cidr}' is too small for VMs`,
      "use a /30 or larger network",
    );
  const first = network.startAddress().bigInt() + 1n;
  const last = network.endAddress().bigInt() - 1n;
  const gw = gateway ?? Address4.fromBigInt(first).correctForm();
  return { cidr, network, first, last, gateway: gw };
}

export function netmask(subnet: Subnet): string {
  const bits = subnet.network.subnetMask;
  const mask = bits === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - bits)) - 1n);
  return Address4.fromBigInt(mask).correctForm();
}

/** Validates an address the user gave: IPv4, inside the subnet, not network/broadcast/gateway. */
export function checkIp(ip: string, subnet: Subnet): string {
  if (!Address4.isValid(ip) || ip.includes("/"))
    throw new BadInput(`'${ip}' is not an IPv4 address`, "give --ip like 10.10.60.6");
  const addr = new Address4(ip);
  const n = addr.bigInt();
  if (n < subnet.first || n > subnet.last) {
    throw new BadInput(
      `address ${ip} is outside the farm subnet ${subnet.cidr} (or is its network/broadcast address)`,
      `pick a host address in ${subnet.cidr}`,
    );
  }
  if (addr.correctForm() === subnet.gateway)
    throw new BadInput(`address ${ip} is the subnet's gateway`, "pick another address");
  return addr.correctForm();
}

export function nextFreeIp(subnet: Subnet, used: ReadonlyMap<string, string>): string {
  for (let n = subnet.first; n <= subnet.last; n++) {
    const ip = Address4.fromBigInt(n).correctForm();
    if (ip !== subnet.gateway && !used.has(ip)) return ip;
  }
  throw new AlreadyExists(
    `no free address left in ${subnet.cidr}`,
    "destroy an unused VM or widen [network] subnet",
  );
}

const MAC = /^52:54(:[0-9a-f]{2}){4}$/;

export function checkMac(mac: string): string {
  const m = mac.toLowerCase();
  if (!MAC.test(m))
    throw new BadInput(
      `'${mac}' is not a 52:54 MAC address`,
      "give --mac like 52:54:86:b3:3f:10 (52:54 prefix, six hex pairs)",
    );
  return m;
}

export function randomMac(
  used: ReadonlySet<string>,
  bytes: (n: number) => Buffer = randomBytes,
): string {
  for (let tries = 0; tries < 1000; tries++) {
    const mac = ["52", "54", ...[...bytes(4)].map((b) => b.toString(16).padStart(2, "0"))].join(
      ":",
    );
    if (!used.has(mac)) return mac;
  }
  throw new AlreadyExists("could not find an unused MAC address", "give one with --mac");
}

export function sshPortFor(ip: string, base: number): number {
  const lastOctet = Number(ip.split(".")[3]);
  return base + lastOctet;
}

export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new BadInput(
      `SSH port '${port}' is not a TCP port`,
      "give --ssh-port between 1 and 65535",
    );
  return port;
}

const showRange = (r: PortRange) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`);

/** The free stretches of the range, like "22000-22004, 22006-22255" (the first few). */
export function freePorts(range: PortRange, used: ReadonlyMap<number, string>): string {
  const runs: PortRange[] = [];
  for (let p = range.first; p <= range.last; p++) {
    if (used.has(p)) continue;
    const last = runs[runs.length - 1];
    if (last && last.last === p - 1) last.last = p;
    else runs.push({ first: p, last: p });
  }
  if (!runs.length) return "none";
  const shown = runs.slice(0, 5).map(showRange).join(", ");
  return runs.length > 5 ? `${shown}, ...` : shown;
}

/** A requested SSH port: a TCP port inside [firewall] ssh_ports. */
export function checkSshPort(port: number, range: PortRange): number {
  checkPort(port);
  if (port < range.first || port > range.last)
    throw new BadInput(
      `SSH port ${port} is outside the range farmctl forwards ([firewall] ssh_ports ${showRange(range)})`,
      `give --ssh-port in ${showRange(range)}, or leave it out to get a free one`,
    );
  return port;
}

/** The seed's convention (base + last octet) when it is in the range and free, else the first free port. */
function pickSshPort(ip: string, range: PortRange, base: number, used: InUse): number {
  const usual = sshPortFor(ip, base);
  if (usual >= range.first && usual <= range.last && !used.ports.has(usual)) return usual;
  for (let p = range.first; p <= range.last; p++) if (!used.ports.has(p)) return p;
  throw new AlreadyExists(
    `no free SSH port left in [firewall] ssh_ports ${showRange(range)}`,
    "destroy an unused VM or widen [firewall] ssh_ports",
  );
}

export interface Allocation {
  ip: string;
  mac: string;
  sshPort: number;
}

export interface AllocationRequest {
  ip?: string;
  mac?: string;
  sshPort?: number;
}

export interface PortPolicy {
  range: PortRange;
  /** [firewall] ssh_port_base: the default port is base + the address's last octet. */
  base: number;
}

/** Picks (or checks) the address, MAC and port against everything in use. */
export function allocate(
  req: AllocationRequest,
  subnet: Subnet,
  used: InUse,
  ports: PortPolicy,
): Allocation {
  const ip = req.ip !== undefined ? checkIp(req.ip, subnet) : nextFreeIp(subnet, used.ips);
  const ipHolder = req.ip !== undefined ? used.ips.get(ip) : undefined;
  if (ipHolder !== undefined)
    throw new AlreadyExists(
      `address ${ip} is already in use (${ipHolder})`,
      "pick another --ip, or leave it out to get the next free one",
    );
  const mac = req.mac !== undefined ? checkMac(req.mac) : randomMac(used.macs);
  if (req.mac !== undefined && used.macs.has(mac))
    throw new AlreadyExists(
      `MAC ${mac} is already in use`,
      "pick another --mac, or leave it out to get a random one",
    );
  if (req.sshPort === undefined)
    return { ip, mac, sshPort: pickSshPort(ip, ports.range, ports.base, used) };
  const sshPort = checkSshPort(req.sshPort, ports.range);
  const portHolder = used.ports.get(sshPort);
  if (portHolder !== undefined)
    throw new AlreadyExists(
      `SSH port ${sshPort} is already used by ${portHolder}`,
      `give a free --ssh-port (free in ${showRange(ports.range)}: ${freePorts(ports.range, used.ports)}), or leave it out`,
    );
  return { ip, mac, sshPort };
}
