// The admin's view of the farm: the inventory merged with live Ganeti, and the VMs made by hand
// (learned from Ganeti and the config files, like the seed's gallifrey).
import type { VmDetail, VmRow } from "../../api/inventory.js";
import { NotFound } from "../../api/errors.js";
import type { Config } from "../../config/schema.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import type { Inventory, VmRecord } from "../../state/inventory.js";
import type { Journal } from "../../state/journal.js";
import { nameConfig } from "../clone/preflight.js";
import { recordedScope, vmEntry } from "../entry.js";
import { parseInstanceName, vmNames } from "../names.js";
import type { Families, GanetiPort, InstanceInfo, LvmPort, MonitorPort } from "../ports.js";

export interface ViewDeps {
  config: Config;
  ganeti: GanetiPort;
  lvm: LvmPort;
  families: Families;
  inventory: Inventory;
  journal: Journal;
  monitor: MonitorPort;
}

const FAMILIES = ["dns", "dhcp", "firewall", "proxy"] as const;

function rowOf(r: VmRecord, inst: InstanceInfo | undefined): VmRow {
  return {
    name: r.name,
    group: r.group,
    instance: r.fqdn,
    state: inst?.status ?? "missing",
    ip: r.ip,
    mac: r.mac,
    sshPort: r.sshPort,
    webName: r.webName,
    memoryBytes: inst?.memoryBytes ?? r.memoryBytes,
    balloonBytes: r.balloonBytes,
    lv: r.lvName,
    diskBytes: r.diskBytes,
    source: r.source,
    created: r.createdAt,
    origin: "farmctl",
    hostname: r.hostname,
    machineId: r.machineId,
    farm: r.farm,
    member: r.member,
    owner: r.owner,
    expiresAt: r.expiresAt,
  };
}

/** A hand-made VM's entry as far as the files tell it (address from the zone or dhcpd, port from shorewall). */
export async function learnEntry(
  inst: InstanceInfo,
  deps: Pick<ViewDeps, "config" | "families">,
): Promise<Learned | null> {
  return (await learnEntries([inst], deps))[0]!;
}

type Learned = { entry: VmEntry; webName: string | null };

/** learnEntry of several instances, each family's files read once for them all. */
async function learnEntries(
  insts: readonly InstanceInfo[],
  deps: Pick<ViewDeps, "config" | "families">,
): Promise<(Learned | null)[]> {
  const probes = insts.map((inst) => {
    const parts = parseInstanceName(inst.name, deps.config.names.domain);
    if (!parts) return null;
    try {
      const names = vmNames(parts.name, parts.group, nameConfig(deps.config));
      const alloc = { ip: "0.0.0.0", mac: inst.nicMacs[0] ?? "", sshPort: 0 };
      return vmEntry(names, alloc, null, deps.config);
    } catch {
      return null; // a name farmctl could not have made; shown in Ganeti only
    }
  });
  const at = probes.flatMap((p, i) => (p === null ? [] : [i])); // the instances farmctl could name
  if (at.length === 0) return probes.map(() => null);
  const known = at.map((i) => probes[i]!);
  const { dns, dhcp, firewall, proxy } = deps.families;
  const [zone, hosts] = await Promise.all([dns.inspectAll(known), dhcp.inspectAll(known)]);
  const ips = known.map(
    (_, k) => zone[k]!.values.ip ?? hosts[k]!.values.ip ?? insts[at[k]!]!.nicIps[0] ?? "0.0.0.0",
  );
  const rules = await firewall.inspectAll(known.map((p, k) => ({ ...p, ip: ips[k]! })));
  const sites = new Set((await proxy.usage()).names);
  const out: (Learned | null)[] = probes.map(() => null);
  known.forEach((probe, k) => {
    const web = `${probe.name}.${deps.config.names.public_domain}`;
    const webName = sites.has(web) ? web : null;
    const port = rules[k]!.values.port;
    const entry = { ...probe, ip: ips[k]!, sshPort: port ?? 0, ...(webName ? { webName } : {}) };
    out[at[k]!] = { entry, webName };
  });
  return out;
}

function handMadeRow(
  inst: InstanceInfo,
  learned: { entry: VmEntry; webName: string | null } | null,
  disks: { lv: string; sizeBytes: number }[],
  deps: ViewDeps,
): VmRow {
  const parts = parseInstanceName(inst.name, deps.config.names.domain);
  return {
    name: parts?.name ?? inst.name,
    group: parts?.group ?? "",
    instance: inst.name,
    state: inst.status,
    ip: learned && learned.entry.ip !== "0.0.0.0" ? learned.entry.ip : null,
    mac: inst.nicMacs[0] ?? null,
    sshPort: learned?.entry.sshPort || null,
    webName: learned?.webName ?? null,
    memoryBytes: inst.memoryBytes,
    balloonBytes: null,
    lv: disks[0]?.lv ?? null,
    diskBytes: disks[0]?.sizeBytes ?? null,
    source: null,
    created: null,
    origin: "hand-made",
    hostname: null,
    machineId: null,
    farm: null,
    member: null,
    owner: null,
    expiresAt: null,
  };
}

/** Rows of the hand-made instances: their LVs from one Ganeti query for them all. */
async function handMadeRows(hand: InstanceInfo[], deps: ViewDeps): Promise<VmRow[]> {
  const disks = hand.length
    ? await deps.ganeti.disksOf(hand).catch(() => new Map<string, []>())
    : new Map<string, []>();
  const learned = await learnEntries(hand, deps);
  return hand.map((inst, i) => handMadeRow(inst, learned[i]!, disks.get(inst.name) ?? [], deps));
}

const byName = (a: VmRow, b: VmRow) =>
  a.name.localeCompare(b.name) || a.group.localeCompare(b.group);

/** One `gnt-instance list` for all, never a Ganeti call per VM. */
export async function listVms(deps: ViewDeps): Promise<VmRow[]> {
  const instances = await deps.ganeti.listInstances();
  const byFqdn = new Map(instances.map((i) => [i.name, i]));
  const records = deps.inventory.list();
  const known = new Set(records.map((r) => r.fqdn));
  const rows = records.map((r) => rowOf(r, byFqdn.get(r.fqdn)));
  rows.push(
    ...(await handMadeRows(
      instances.filter((i) => !known.has(i.name)),
      deps,
    )),
  );
  return rows.sort(byName);
}

/** The one VM `name` (its short name or instance name), as listVms would show it. */
async function findRow(
  deps: ViewDeps,
  name: string,
): Promise<{ vm: VmRow; record: VmRecord | null; inst: InstanceInfo | undefined } | null> {
  const instances = await deps.ganeti.listInstances();
  const candidates: { vm: VmRow; record: VmRecord | null; inst: InstanceInfo | undefined }[] = [];
  for (const record of [deps.inventory.get(name), deps.inventory.byFqdn(name)]) {
    if (!record || candidates.some((c) => c.record?.name === record.name)) continue;
    const inst = instances.find((i) => i.name === record.fqdn);
    candidates.push({ vm: rowOf(record, inst), record, inst });
  }
  const hand = instances.filter(
    (i) =>
      (i.name === name || parseInstanceName(i.name, deps.config.names.domain)?.name === name) &&
      !deps.inventory.byFqdn(i.name),
  );
  for (const [i, vm] of (await handMadeRows(hand, deps)).entries())
    candidates.push({ vm, record: null, inst: hand[i] });
  return candidates.sort((a, b) => byName(a.vm, b.vm))[0] ?? null;
}

export async function showVm(deps: ViewDeps, name: string): Promise<VmDetail> {
  const found = await findRow(deps, name);
  if (!found)
    throw new NotFound(
      `no VM '${name}' in the inventory or in Ganeti`,
      "`farmctl list` shows the VMs",
    );
  const { vm, inst } = found;
  const record = found.record;
  const entry = record
    ? vmEntry(
        vmNames(record.name, record.group, nameConfig(deps.config)),
        record,
        record.webName,
        deps.config,
        recordedScope(record),
      )
    : inst && (await learnEntry(inst, deps))?.entry;
  const files = [];
  if (entry) {
    for (const family of FAMILIES) {
      for (const l of (await deps.families[family].inspect(entry)).lines)
        files.push({ family, ...l });
    }
  }
  const operations = deps.journal
    .list(1000)
    .filter((o) => o.target === vm.name)
    .map((o) => ({ id: o.id, kind: o.kind, state: o.state, createdAt: o.createdAt }));
  const liveBalloonBytes =
    vm.state === "running" && deps.monitor.protocolFor(vm.instance)
      ? await deps.monitor.queryBalloon(vm.instance).catch(() => null)
      : null;
  return {
    vm,
    files,
    operations,
    liveBalloonBytes,
    sshHostKeys: record?.sshHostKeys ?? null,
    vars: record?.vars ?? {},
  };
}
