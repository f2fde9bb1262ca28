// Address, MAC and SSH port allocation: pure decisions over the sets of values already in use.
import { randomBytes } from "node:crypto";
import { Address4 } from "ip-address";
import { AlreadyExists, BadInput } from "../api/errors.js";

export interface InUse {
  ips: Set<string>;
  macs: Set<string>;
  ports: Set<number>;
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

export function nextFreeIp(subnet: Subnet, used: Set<string>): string {
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

export function randomMac(used: Set<string>, bytes: (n: number) => Buffer = randomBytes): string {
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

/** Picks (or checks) the address, MAC and port against everything in use. */
export function allocate(
  req: AllocationRequest,
  subnet: Subnet,
  used: InUse,
  portBase: number,
): Allocation {
  const ip = req.ip !== undefined ? checkIp(req.ip, subnet) : nextFreeIp(subnet, used.ips);
  if (req.ip !== undefined && used.ips.has(ip))
    throw new AlreadyExists(
      `address ${ip} is already in use`,
      "pick another --ip, or leave it out to get the next free one",
    );
  const mac = req.mac !== undefined ? checkMac(req.mac) : randomMac(used.macs);
  if (req.mac !== undefined && used.macs.has(mac))
    throw new AlreadyExists(
      `MAC ${mac} is already in use`,
      "pick another --mac, or leave it out to get a random one",
    );
  const sshPort = checkPort(req.sshPort ?? sshPortFor(ip, portBase));
  if (used.ports.has(sshPort))
    throw new AlreadyExists(`SSH port ${sshPort} is already forwarded`, "give another --ssh-port");
  return { ip, mac, sshPort };
}
