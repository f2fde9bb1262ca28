// Step 1: establishes every fact the clone needs and refuses bad input. Changes nothing.
import { basename } from "node:path";
import { AlreadyExists, BadInput, forField, NotFound, Unavailable } from "../../api/errors.js";
import { sshPorts, type Config } from "../../config/schema.js";
import { checkBalloonFloor, formatSize, parseRate, parseSize } from "../../config/size.js";
import type { Inventory } from "../../state/inventory.js";
import { checkIp, checkMac, checkSshPort, parseSubnet } from "../allocate.js";
import { checkLabel, parseInstanceName, vmNames, webName, type NameConfig } from "../names.js";
import type { Families, FamilyUsage, GanetiPort, InstanceInfo, LvmPort } from "../ports.js";
import { checkVars } from "../guest/vars.js";
import { isScopeName } from "../../host/confedit/entry.js";
import { farmTags } from "../../host/ganeti-tags.js";
import { leaseMs } from "../inventory/lease.js";
import type { CloneFacts, CloneRequest, SourceFacts, UsedValues } from "./request.js";
import { thinPlan, vgBytesNeeded } from "./thin.js";

export interface PreflightDeps {
  config: Config;
  lvm: LvmPort;
  ganeti: GanetiPort;
  families: Families;
  inventory: Inventory;
  findExecutable: (name: string) => string | null;
  /** TCP ports something on the host listens on (/proc/net/tcp{,6}). */
  listening: () => Promise<number[]>;
}

export const nameConfig = (c: Config): NameConfig => ({
  domain: c.names.domain,
  publicDomain: c.names.public_domain,
  zone: c.dns.zone,
});

const TOOLS = [
  "lvs",
  "vgs",
  "lvcreate",
  "lvremove",
  "ionice",
  "dd",
  "gnt-instance",
  "named-checkzone",
  "dhcpd",
  "shorewall",
];

/** Checks what can be checked without asking the host: bad input never costs a query. */
export function checkRequest(req: CloneRequest, config: Config): void {
  const field = (name: string, check: () => unknown) => forField(`request.${name}`, check);
  field("source", () => checkLabel(req.source, "source VM name"));
  field("name", () => checkLabel(req.name, "VM name"));
  if (req.group !== undefined) field("group", () => checkLabel(req.group!, "group"));
  if (req.memory !== undefined) field("memory", () => parseSize(req.memory!, "--memory"));
  if (req.balloon !== undefined) field("balloon", () => parseSize(req.balloon!, "--balloon"));
  if (req.mac !== undefined) field("mac", () => checkMac(req.mac!));
  if (req.ip !== undefined)
    field("ip", () => checkIp(req.ip!, parseSubnet(config.network.subnet, config.network.gateway)));
  if (req.sshPort !== undefined)
    field("sshPort", () => checkSshPort(req.sshPort!, sshPorts(config.firewall)));
  if (req.web) field("web", () => webName(req.name, nameConfig(config), req.web!));
  if (req.vars !== undefined) checkVars(req.vars);
  if (req.lease !== undefined) field("lease", () => leaseMs(req.lease!, config));
  if (req.bwlimit !== undefined) field("bwlimit", () => bwlimitOf(req));
  if (req.farm !== undefined) field("farm", () => checkMembership(req));
}

/** --bwlimit in bytes/s for the copy: 0 = none for this clone; undefined = [copy] bwlimit. */
export function bwlimitOf(req: Pick<CloneRequest, "bwlimit">): number | undefined {
  return req.bwlimit === undefined ? undefined : parseRate(req.bwlimit, "--bwlimit");
}

/** A farm member's clone: its tags must be ones Ganeti takes, and it must be the member it says. */
function checkMembership(req: CloneRequest): void {
  const m = req.farm!;
  farmTags(m.farm, m.member);
  // Templates see them too: the plain names every config file takes.
  if (!isScopeName(m.farm) || !isScopeName(m.member))
    throw new BadInput(
      `farm '${m.farm}' or member '${m.member}' is not a plain name`,
      "use letters, digits, '_', '.' and '-' (at most 64)",
    );
  if (m.spec.name !== req.name || m.spec.key !== m.member)
    throw new BadInput(
      `farm ${m.farm} member ${m.member} is VM '${m.spec.name}', not '${req.name}'`,
      "plan the farm again (farmctl farm plan)",
    );
}

export async function preflight(req: CloneRequest, deps: PreflightDeps): Promise<CloneFacts> {
  const { config } = deps;
  const cfg = nameConfig(config);
  checkRequest(req, config);
  const tools = req.web === null ? TOOLS : [...TOOLS, "nginx"];
  const absent = tools.filter((t) => !deps.findExecutable(t));
  if (absent.length)
    throw new Unavailable(
      `tools missing on this host: ${absent.join(", ")}`,
      "install them (see farmctl(1), REQUIREMENTS) and run the command again",
    );

  const memoryBytes = parseSize(req.memory ?? config.ganeti.memory, "--memory");
  const balloonBytes = parseSize(req.balloon ?? config.balloon.target, "--balloon");
  if (balloonBytes > memoryBytes)
    throw new BadInput(
      `--balloon ${formatSize(balloonBytes)} is more than the VM's memory ${formatSize(memoryBytes)}`,
      "give a balloon target at most --memory",
    );
  // HMP's balloon takes whole MiB: 1536M is fine, 1537K is not.
  if (balloonBytes % 2 ** 20 !== 0)
    throw new BadInput(
      `--balloon ${req.balloon} is not a whole number of MiB`,
      "give it in M or G, like 1024M or 1G",
    );
  checkBalloonFloor(balloonBytes, config.balloon.min, "--balloon");
  const snapshotBytes = parseSize(config.lvm.snapshot_size, "[lvm] snapshot_size");

  const instances = await deps.ganeti.listInstances();
  const source = await findSource(req, instances, deps);
  const group = req.group ?? source.group;
  const target = vmNames(req.name, group, cfg);
  const web = req.web === null ? null : webName(req.name, cfg, req.web);
  if (target.name === source.name && target.group === source.group)
    throw new BadInput(
      `source and new VM are both '${source.fqdn}'`,
      "give the new VM another name",
    );

  // Each family's file is read once; the free-name check and the allocation both use it.
  const [dns, dhcp, fw, sites] = await Promise.all([
    deps.families.dns.usage(),
    deps.families.dhcp.usage(),
    deps.families.firewall.usage(),
    deps.families.proxy.sites(),
  ]);
  await checkTargetFree(target, instances, { dns, dhcp, fw }, deps);
  if (web) checkWebFree(web, sites);

  const thin = await thinPlan(source, deps.lvm, config);
  const vg = await deps.lvm.vgInfo(config.lvm.vg);
  const needed = vgBytesNeeded(thin, source.sizeBytes, snapshotBytes);
  if (vg.freeBytes < needed) {
    throw new Unavailable(
      `volume group '${config.lvm.vg}' has ${formatSize(vg.freeBytes)} free; the clone needs ${formatSize(needed)} (${thin ? `snapshot ${config.lvm.snapshot_size}, the disk in thin pool ${thin.pool}` : `disk ${formatSize(source.sizeBytes)} + snapshot ${config.lvm.snapshot_size}`})`,
      "free space in the VG (destroy an unused VM) and run the command again",
    );
  }

  const used = await usedValues(deps, instances, { dns, dhcp });
  return {
    source,
    target,
    webName: web,
    memory: formatSize(memoryBytes),
    memoryBytes,
    balloonBytes,
    snapshotBytes,
    thin,
    start: req.start ?? true,
    used,
  };
}

export async function findSource(
  req: CloneRequest,
  instances: InstanceInfo[],
  deps: PreflightDeps,
): Promise<SourceFacts> {
  const { config } = deps;
  const domain = config.names.domain;
  const matches = instances.filter((i) => {
    const parts = parseInstanceName(i.name, domain);
    return parts?.name === req.source && (req.group === undefined || parts.group === req.group);
  });
  // With --group, the source may still sit in another group: the new VM goes in --group.
  const candidates =
    matches.length || req.group === undefined
      ? matches
      : instances.filter((i) => parseInstanceName(i.name, domain)?.name === req.source);
  if (candidates.length === 0) {
    throw new NotFound(
      `source VM '${req.source}' is not a Ganeti instance (looked for ${req.source}.<group>.${domain})`,
      "check the name with `gnt-instance list`",
    );
  }
  if (candidates.length > 1) {
    throw new BadInput(
      `source VM '${req.source}' exists in several groups: ${candidates.map((c) => c.name).join(", ")}`,
      "say which one with --group",
    );
  }
  const inst = candidates[0]!;
  const { name, group } = parseInstanceName(inst.name, domain)!;
  if (inst.diskTemplate !== "plain") {
    throw new BadInput(
      `source instance ${inst.name} uses disk template '${inst.diskTemplate}', not 'plain'`,
      "farmctl clones plain (LVM) instances only",
    );
  }
  const disks = await deps.ganeti.instanceDisks(inst.name);
  if (disks.length !== 1)
    throw new BadInput(
      `source instance ${inst.name} has ${disks.length} disks; farmctl clones single-disk instances`,
      "clone it by hand, or detach the extra disks",
    );
  const disk = disks[0]!;
  const lv = (await deps.lvm.list(disk.vg)).find((l) => l.name === disk.lv);
  if (!lv)
    throw new NotFound(
      `Ganeti says ${inst.name}'s disk is ${disk.vg}/${disk.lv}, but LVM has no such volume`,
      "run `gnt-cluster verify` and fix the instance first",
    );
  if (disk.vg !== config.lvm.vg)
    throw new BadInput(
      `source disk is in VG '${disk.vg}', farmctl is configured for '${config.lvm.vg}'`,
      "set [lvm] vg in farmd.toml",
    );
  return {
    name,
    group,
    fqdn: inst.name,
    vg: disk.vg,
    lv: lv.name,
    lvUuid: lv.uuid,
    sizeBytes: lv.sizeBytes,
  };
}

async function checkTargetFree(
  target: ReturnType<typeof vmNames>,
  instances: InstanceInfo[],
  usage: Record<"dns" | "dhcp" | "fw", FamilyUsage>,
  deps: PreflightDeps,
): Promise<void> {
  const taken = (where: string) =>
    new AlreadyExists(
      `VM '${target.name}' already exists in ${where}`,
      `pick another name or run \`farmctl destroy ${target.name}\``,
    );
  if (deps.inventory.get(target.name)) throw taken("the farmctl inventory");
  if (instances.some((i) => i.name === target.fqdn))
    throw taken(`Ganeti (instance ${target.fqdn})`);
  const { dns, dhcp, fw } = usage;
  if (dns.names.includes(target.zoneName) || dns.names.includes(target.fqdn))
    throw taken(`the DNS zone (${target.zoneName})`);
  if (dhcp.names.includes(target.fqdn) || dhcp.names.includes(target.name))
    throw taken(`dhcpd.conf (host ${target.fqdn})`);
  if (fw.names.includes(target.shorewallParam))
    throw taken(`the shorewall params (${target.shorewallParam})`);
  if ((await deps.lvm.list(deps.config.lvm.vg)).some((l) => l.name === target.lvName))
    throw taken(`LVM (volume ${deps.config.lvm.vg}/${target.lvName})`);
}

/** The web name is no other site's: neither a server_name it serves nor its file's name. */
function checkWebFree(web: string, sites: Map<string, string>): void {
  const file = sites.get(web);
  if (file === undefined) return;
  const fix = "give another --web, or --no-web";
  if (basename(file) === web)
    throw new AlreadyExists(`nginx site file ${file} already exists`, fix, { file });
  throw new AlreadyExists(`web name '${web}' is already served by nginx site ${file}`, fix, {
    file,
  });
}

/** Everything a new VM's address and port must avoid, each with who holds it. */
async function usedValues(
  deps: PreflightDeps,
  instances: InstanceInfo[],
  usage: Record<"dns" | "dhcp", FamilyUsage>,
): Promise<UsedValues> {
  const { config } = deps;
  const ips = new Map<string, string>();
  const hold = <K>(map: Map<K, string>, keys: Iterable<K>, who: (k: K) => string) => {
    for (const k of keys) if (!map.has(k)) map.set(k, who(k));
  };
  hold(ips, usage.dns.ips, () => `an A record in ${config.dns.zone_file}`);
  hold(ips, usage.dhcp.ips, () => `a host in ${config.dhcp.config}`);
  for (const i of instances)
    hold(
      ips,
      i.nicIps.filter((ip): ip is string => !!ip),
      () => `Ganeti instance ${i.name}`,
    );
  for (const [ip, who] of await deps.families.firewall.paramAddresses()) hold(ips, [ip], () => who);
  const ports = new Map(await deps.families.firewall.portHolders());
  hold(
    ports,
    await deps.listening(),
    (port) => `a socket listening on the host (\`ss -tlnp sport = :${port}\` names its program)`,
  );
  const macs = new Set(
    [...usage.dhcp.macs, ...instances.flatMap((i) => i.nicMacs)].map((m) => m.toLowerCase()),
  );
  return { ips, macs, ports };
}
