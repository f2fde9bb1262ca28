// A host with 1,000 farmctl VMs for the inventory benchmark: host01's config files holding each
// VM's entries (written with the families' own edit functions, in memory, then once to disk), the
// inventory with one ready record per VM, and the recorded Ganeti 3.0 output of their instances.
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import * as dhcpd from "../../src/host/confedit/dhcpd.js";
import * as nginx from "../../src/host/confedit/nginx.js";
import * as sw from "../../src/host/confedit/shorewall.js";
import * as zone from "../../src/host/confedit/zone.js";
import { records as zoneRecords } from "../../src/host/confedit/zone-parse.js";
import { parseInstanceList } from "../../src/host/ganeti-parse.js";
import { Templates } from "../../src/host/templates.js";
import { nameConfig } from "../../src/ops/clone/preflight.js";
import { vmEntry } from "../../src/ops/entry.js";
import { parseInstanceName, vmNames } from "../../src/ops/names.js";
import { openDb, type Db } from "../../src/state/db.js";
import { Inventory } from "../../src/state/inventory.js";
import { Journal } from "../../src/state/journal.js";

import { familiesToml } from "../ops/clone-harness.js";

const FIXTURE = new URL("../fixtures/host01/etc", import.meta.url).pathname;

export interface InventoryFarm {
  root: string;
  config: Config;
  db: Db;
  inventory: Inventory;
  journal: Journal;
  /** Name resolution as bind would answer it from the zone (read once: farmd's time only). */
  resolve: (name: string) => Promise<string[]>;
  /** The farmctl VMs' short names. */
  names: string[];
  cleanup(): void;
}

/** Every instance of `listStdout` in the `scale` group becomes a farmctl VM (every 10th with a web site). */
export function inventoryFarm(listStdout: string): InventoryFarm {
  const root = mkdtempSync(join(tmpdir(), "farm-bench-inventory-"));
  cpSync(FIXTURE, join(root, "etc"), { recursive: true, verbatimSymlinks: true });
  // 1,000 VMs need more than the seed's /24 and its 256 SSH ports.
  const config = parseConfig(
    `state_dir = "${root}/state"
[network]
subnet = "10.10.56.0/21"
gateway = "10.10.60.1"
${familiesToml(root, 'ssh_ports = "22100-23999"')}
`,
    "bench.toml",
  );
  const templates = new Templates(config.templates_dir);
  const db = openDb(join(root, "state"));
  const inventory = new Inventory(db);
  const journal = new Journal(db);
  const files = {
    zone: readFileSync(config.dns.zone_file, "utf8"),
    dhcp: readFileSync(config.dhcp.config, "utf8"),
    rules: readFileSync(config.firewall.rules, "utf8"),
    params: readFileSync(config.firewall.params, "utf8"),
  };
  const names: string[] = [];
  const scale = parseInstanceList(listStdout).filter(
    (i) => parseInstanceName(i.name, config.names.domain)?.group === "scale",
  );
  // One transaction for the 1,000 records (each reserve is its own otherwise: a commit each).
  db.transaction(() =>
    scale.forEach((inst, n) => {
      const { name, group } = parseInstanceName(inst.name, config.names.domain)!;
      const alloc = {
        ip: `10.10.${56 + Math.floor((n + 10) / 256)}.${(n + 10) % 256}`,
        mac: inst.nicMacs[0]!,
        sshPort: 22100 + n,
      };
      const webName = n % 10 === 0 ? `${name}.${config.names.public_domain}` : null;
      const vmNamesOf = vmNames(name, group, nameConfig(config));
      const entry = vmEntry(vmNamesOf, alloc, webName, config);
      files.zone = zone.addEntry(files.zone, entry, zone.render(templates, entry));
      files.dhcp = dhcpd.addEntry(files.dhcp, entry, dhcpd.render(templates, entry));
      files.rules = sw.addRule(files.rules, entry, sw.renderRule(templates, entry));
      files.params = sw.addParam(files.params, entry, sw.renderParam(templates, entry));
      if (webName) {
        const site = nginx.siteFileName(entry);
        mkdirSync(config.proxy.sites_available, { recursive: true });
        writeFileSync(
          join(config.proxy.sites_available, site),
          nginx.addEntry("", entry, nginx.render(templates, entry)),
        );
        symlinkSync(
          join(config.proxy.sites_available, site),
          join(config.proxy.sites_enabled, site),
        );
      }
      const opId = journal.createOperation("clone", name, { source: "gallifrey", name });
      inventory.reserve(() => ({
        name,
        group,
        fqdn: inst.name,
        ...alloc,
        webName,
        memoryBytes: inst.memoryBytes,
        balloonBytes: null,
        vg: null, // the recorded instances are diskless: no LV to check
        lvName: null,
        lvUuid: null,
        diskBytes: null,
        source: "gallifrey",
        opId,
      }));
      inventory.update(name, { state: "ready" });
      journal.setOperationState(opId, "succeeded");
      names.push(name);
    }),
  )();
  writeFileSync(config.dns.zone_file, files.zone);
  writeFileSync(config.dhcp.config, files.dhcp);
  writeFileSync(config.firewall.rules, files.rules);
  writeFileSync(config.firewall.params, files.params);
  const addresses = new Map<string, string[]>();
  for (const r of zoneRecords(files.zone, config.dns.zone))
    if (r.type === "A") addresses.set(r.owner, [...(addresses.get(r.owner) ?? []), r.rdata[0]!]);
  return {
    root,
    config,
    db,
    inventory,
    journal,
    resolve: async (name) => addresses.get(name.toLowerCase()) ?? [],
    names,
    cleanup() {
      db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
