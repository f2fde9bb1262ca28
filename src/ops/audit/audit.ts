// `farmctl audit`: the inventory compared with the host, each finding with a severity and a fix;
// `--fix` repairs only what is safe (re-add an entry, remove a farmctl snapshot), never a disk.
import type { AuditReport, Finding } from "../../api/inventory.js";
import { isLive } from "../../api/live.js";
import type { VmRecord } from "../../state/inventory.js";
import { checkVm, entryOf, FAMILIES, type AuditDeps, type Seen } from "./checks.js";

const SNAPSHOT = /^farm-snap-([0-9a-f]+)$/;

function duplicates(kind: string, pairs: [string, string][]): Finding[] {
  const by = new Map<string, Set<string>>();
  for (const [value, owner] of pairs) by.set(value, new Set([...(by.get(value) ?? []), owner]));
  return [...by]
    .filter(([, owners]) => owners.size > 1)
    .map(([value, owners]) => ({
      severity: "error" as const,
      code: "duplicate",
      vm: null,
      message: `${kind} ${value} is used by ${[...owners].sort().join(" and ")}`,
      fix: `give each its own ${kind}: only one of them can work`,
    }));
}

async function resolveAll(records: VmRecord[], deps: AuditDeps): Promise<Map<string, string[]>> {
  const names = [...new Set(records.map((r) => r.fqdn))];
  const addresses = await Promise.all(names.map((n) => deps.resolve(n)));
  return new Map(names.map((n, i) => [n, addresses[i]!]));
}

/** Each VM's entries in the four families, from one read of each family's files. */
async function inspectAll(
  records: VmRecord[],
  deps: AuditDeps,
): Promise<Map<string, Seen["entries"]>> {
  const entries = records.map((r) => entryOf(r, deps));
  const [dns, dhcp, firewall, proxy] = await Promise.all(
    FAMILIES.map((f) => deps.families[f].inspectAll(entries)),
  );
  return new Map(
    records.map((r, i) => [
      r.name,
      { dns: dns![i]!, dhcp: dhcp![i]!, firewall: firewall![i]!, proxy: proxy![i]! },
    ]),
  );
}

export async function audit(deps: AuditDeps): Promise<Finding[]> {
  const { config, inventory, ganeti, lvm, families, journal } = deps;
  // Two cluster-wide Ganeti queries, never one per instance: the instances and every LV's owner.
  const instances = await ganeti.listInstances();
  const volumes = await ganeti.volumes();
  const lvs = await lvm.list(config.lvm.vg);
  const byFqdn = new Map(instances.map((i) => [i.name, i]));
  const lvUuids = new Set(lvs.map((l) => l.uuid));
  // A VM that an unfinished operation (queued, running, interrupted, recovering) works on is that
  // operation's: its entries may be half made or half removed on purpose, so they are not judged.
  const live = new Map(
    journal
      .live()
      .filter((op) => op.kind !== "fix") // a fix is the host's, not a VM's
      .map((op) => [op.target, op]),
  );
  const findings: Finding[] = [];
  const all = inventory.list();
  const records = all.filter((r) => r.state === "ready");
  // Names are looked up all at once (the resolver's lookups overlap), then checked VM by VM.
  const resolved = await resolveAll(records, deps);
  const checked = records.filter((r) => !live.has(r.name));
  const entries = await inspectAll(checked, deps);
  for (const r of records) {
    const op = live.get(r.name);
    if (op)
      findings.push({
        severity: "info",
        code: "in-flight",
        vm: r.name,
        message: `${r.name} is being worked on by operation ${op.id} (${op.kind}, ${op.state}); not checked`,
        fix: `let it finish, or \`farmctl resume ${op.id}\` / \`farmctl cancel ${op.id}\` if interrupted`,
      });
    else
      findings.push(
        ...checkVm(
          r,
          {
            inst: byFqdn.get(r.fqdn),
            lvUuids,
            entries: entries.get(r.name)!,
            resolved: resolved.get(r.fqdn)!,
          },
          deps,
        ),
      );
  }

  const known = new Set(all.map((r) => r.fqdn));
  for (const family of ["dns", "dhcp", "firewall", "proxy"] as const) {
    for (const fqdn of await families[family].blockNames()) {
      if (known.has(fqdn)) continue;
      findings.push({
        severity: "warning",
        code: "entry-extra",
        vm: null,
        message: `${families[family].label} has a farmctl entry for ${fqdn}, which is not in the inventory`,
        fix: `remove farmctl's block for ${fqdn} by hand, or take the VM in with farmctl import`,
      });
    }
  }

  const used = new Set(
    volumes.filter((v) => v.instance !== null && v.vg === config.lvm.vg).map((v) => v.name),
  );
  const inFlight = new Set(
    all.filter((r) => r.state !== "ready").flatMap((r) => [r.lvName, r.lvUuid]),
  );
  for (const lv of lvs) {
    const snap = SNAPSHOT.exec(lv.name);
    if (snap) {
      const op = journal.operation(snap[1]!);
      if (op && isLive(op.state)) continue; // its clone is in flight: the undo or the copy needs it
      const fill = lv.dataPercent == null ? "" : ` (${lv.dataPercent}% full)`;
      findings.push({
        severity: "warning",
        code: "snapshot-left",
        vm: null,
        message: `snapshot ${lv.vg}/${lv.name}${fill} was left by operation ${snap[1]}`,
        fix: "farmctl audit --fix removes it",
        repair: { action: "remove-snapshot", vg: lv.vg, lv: lv.name, uuid: lv.uuid },
      });
    } else if (!used.has(lv.name) && !inFlight.has(lv.name) && !inFlight.has(lv.uuid)) {
      findings.push({
        severity: "warning",
        code: "lv-unused",
        vm: null,
        message: `LV ${lv.vg}/${lv.name} (${lv.sizeBytes} bytes) is used by no instance`,
        fix: "check what it holds; remove it by hand if it is stale (farmctl never deletes a disk)",
      });
    }
  }

  const zone = await families.dns.addresses();
  const hosts = await families.dhcp.hosts();
  findings.push(
    ...duplicates("address", [
      ...[...zone].flatMap(([owner, ips]) => ips.map((ip) => [ip, owner] as [string, string])),
      ...hosts.flatMap((h) => (h.ip ? ([[h.ip, h.name]] as [string, string][]) : [])),
      ...records.map((r) => [r.ip, r.fqdn] as [string, string]),
    ]),
    ...duplicates("MAC", [
      ...hosts.flatMap((h) => (h.mac ? ([[h.mac, h.name]] as [string, string][]) : [])),
      ...instances.flatMap((i) =>
        i.nicMacs.map((m) => [m.toLowerCase(), i.name] as [string, string]),
      ),
    ]),
  );
  const ports = await families.firewall.dnatPorts();
  const counts = new Map<number, number>();
  for (const p of ports) counts.set(p, (counts.get(p) ?? 0) + 1);
  for (const [p, n] of counts) {
    if (n > 1)
      findings.push({
        severity: "error",
        code: "duplicate",
        vm: null,
        message: `SSH port ${p} is forwarded by ${n} DNAT rules`,
        fix: "keep one rule per port in the shorewall rules",
      });
  }
  return findings;
}

/** Looked at again just before a repair: an operation started since the audit owns it now. */
function ownedByLiveOp(deps: AuditDeps, repair: NonNullable<Finding["repair"]>): boolean {
  const live = deps.journal.live();
  if (repair.action === "add-entry") return live.some((op) => op.target === repair.vm);
  const opId = SNAPSHOT.exec(repair.lv)?.[1];
  return live.some((op) => op.id === opId);
}

/** Applies the safe repairs, then audits again: what is left needs a person. */
export async function auditAndFix(deps: AuditDeps, fix: boolean): Promise<AuditReport> {
  const before = await audit(deps);
  const repaired: Finding[] = [];
  if (fix) {
    for (const f of before) {
      if (!f.repair || ownedByLiveOp(deps, f.repair)) continue;
      if (f.repair.action === "add-entry") {
        const r = deps.inventory.get(f.repair.vm);
        if (r) {
          const entry = entryOf(r, deps);
          await deps.families[f.repair.family as "dns"].add(entry, () => {});
          // Like the clone: the re-audit must see the name resolve once bind has the record again.
          if (f.repair.family === "dns") await deps.families.dns.waitResolves(entry);
        }
      } else {
        const lv = (await deps.lvm.list(f.repair.vg)).find(
          (l) => l.uuid === (f.repair as { uuid: string }).uuid,
        );
        if (lv && SNAPSHOT.test(lv.name)) await deps.lvm.removeChecked(lv.vg, lv.name, lv.uuid);
      }
      repaired.push(f);
    }
  }
  const findings = fix ? await audit(deps) : before;
  return { clean: !findings.some((f) => f.severity !== "info"), findings, repaired };
}
