// What audit compares: each farmctl VM against Ganeti, LVM, the four config families, DNS and the
// monitor; then the host as a whole (extra entries, leftover snapshots, unused LVs, duplicates).
import type { Finding } from "../../api/inventory.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import type { Resolver } from "../../host/resolve.js";
import type { VmRecord } from "../../state/inventory.js";
import { nameConfig } from "../clone/preflight.js";
import { recordedScope, vmEntry } from "../entry.js";
import type { ViewDeps } from "../inventory/view.js";
import { vmNames } from "../names.js";
import type { InstanceInfo, Inspection } from "../ports.js";

export interface AuditDeps extends ViewDeps {
  resolve: Resolver;
}

const FAMILY_LABEL = {
  dns: "DNS record",
  dhcp: "DHCP host",
  firewall: "shorewall rule and param",
  proxy: "nginx site and symlink",
} as const;

export function entryOf(r: VmRecord, deps: Pick<AuditDeps, "config">): VmEntry {
  const names = vmNames(r.name, r.group, nameConfig(deps.config));
  return vmEntry(names, r, r.webName, deps.config, recordedScope(r));
}

/** What the host-wide reads found for one VM: its instance, its entries, its name's addresses. */
export interface Seen {
  inst: InstanceInfo | undefined;
  /** Every LV UUID of the VG. */
  lvUuids: ReadonlySet<string>;
  entries: Record<(typeof FAMILIES)[number], Inspection>;
  resolved: string[];
}

export const FAMILIES = ["dns", "dhcp", "firewall", "proxy"] as const;

/** One VM against what was read of the host once for all VMs: no read of its own. */
export function checkVm(r: VmRecord, seenHost: Seen, deps: AuditDeps): Finding[] {
  const { inst, lvUuids, resolved } = seenHost;
  const out: Finding[] = [];
  const vm = r.name;
  const add = (f: Omit<Finding, "vm">) => out.push({ vm, ...f });
  if (!inst) {
    add({
      severity: "error",
      code: "instance-missing",
      message: `Ganeti has no instance ${r.fqdn}`,
      fix: `run \`farmctl destroy ${vm}\` to remove what is left of it`,
    });
  } else {
    if (inst.nicMacs[0]?.toLowerCase() !== r.mac) {
      add({
        severity: "error",
        code: "value-mismatch",
        message: `Ganeti gives ${r.fqdn} the MAC ${inst.nicMacs[0] ?? "(none)"}, the inventory ${r.mac}`,
        fix: `gnt-instance modify --net 0:modify,mac=${r.mac} ${r.fqdn}`,
      });
    }
    if (inst.status !== "running")
      add({
        severity: "info",
        code: "not-running",
        message: `${r.fqdn} is ${inst.status}`,
        fix: `gnt-instance start ${r.fqdn}`,
      });
    else if (!deps.monitor.protocolFor(r.fqdn)) {
      add({
        severity: "warning",
        code: "monitor-missing",
        message: `${r.fqdn} runs but has no monitor socket in ${deps.config.ganeti.monitor_dir}`,
        fix: "check [ganeti] monitor_dir in farmd.toml",
      });
    }
  }
  if (r.lvUuid && !lvUuids.has(r.lvUuid)) {
    add({
      severity: "error",
      code: "disk-missing",
      message: `the disk farmctl made for ${vm} (LV UUID ${r.lvUuid}) is gone`,
      fix: "restore it from a backup, or `farmctl destroy` the VM",
    });
  }
  const expected = {
    dns: { ip: r.ip },
    dhcp: { ip: r.ip, mac: r.mac },
    firewall: { ip: r.ip, port: r.sshPort },
    proxy: { webName: r.webName ?? undefined },
  };
  for (const family of FAMILIES) {
    if (family === "proxy" && !r.webName) continue;
    const seen = seenHost.entries[family];
    if (!seen.present) {
      add({
        severity: "error",
        code: "entry-missing",
        message: `the ${FAMILY_LABEL[family]} of ${vm} is missing`,
        fix: "farmctl audit --fix adds it again",
        repair: { action: "add-entry", family, vm },
      });
      continue;
    }
    for (const [key, want] of Object.entries(expected[family]) as [
      keyof typeof seen.values,
      unknown,
    ][]) {
      const got = seen.values[key];
      if (want !== undefined && got !== undefined && String(got) !== String(want)) {
        const where = seen.lines.map((l) => l.path).join(", ");
        add({
          severity: "error",
          code: "value-mismatch",
          message: `${where} gives ${vm} ${key} ${got}, the inventory ${want}`,
          fix: `edit farmctl's block for ${r.fqdn} back to ${want}, or remove the block and run farmctl audit --fix`,
        });
      }
    }
  }
  if (!resolved.includes(r.ip)) {
    add({
      severity: "error",
      code: "name-not-resolving",
      message: `${r.fqdn} resolves to ${resolved.join(", ") || "nothing"}, not ${r.ip}`,
      fix: `check the zone and reload bind (rndc reload ${deps.config.dns.zone})`,
    });
  }
  return out;
}
