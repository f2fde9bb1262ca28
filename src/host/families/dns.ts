// The bind zone: one A record per VM, serial bumped, checked by named-checkzone, bind reloaded.
import { NotFound } from "../../api/errors.js";
import { validateZone, type CheckOptions } from "../confedit/checkers.js";
import type { VmEntry } from "../confedit/entry.js";
import { blockNames } from "../confedit/blocks.js";
import { records } from "../confedit/zone-parse.js";
import { blockLines, mentioning, wrapLines, type Inspection } from "./lines.js";
import * as zone from "../confedit/zone.js";
import type { Candidates } from "../files.js";
import { waitForName, type Resolver } from "../resolve.js";
import type { Runner } from "../runner.js";
import type { Templates } from "../templates.js";
import { commitEdit, revertEdit, unadoptEdit, type FamilyIo, type Revert } from "./edit.js";

export interface DnsFamilyOptions extends FamilyIo {
  runner: Runner;
  templates: Templates;
  zone: string;
  zoneFile: string;
  check: CheckOptions;
  resolve: Resolver;
  resolveTimeoutMs: number;
  today?: () => Date;
}

export class DnsFamily {
  readonly label = "DNS zone";
  readonly paths: string[];

  constructor(private readonly o: DnsFamilyOptions) {
    this.paths = [o.zoneFile];
  }

  async text(): Promise<string> {
    const text = await this.o.files.read(this.o.zoneFile);
    if (text === null)
      throw new NotFound(
        `zone file ${this.o.zoneFile} does not exist`,
        "set [dns] zone_file in farmd.toml",
      );
    return text;
  }

  async has(entry: VmEntry): Promise<boolean> {
    const text = await this.text();
    return (
      zone.findEntry(text, entry.fqdn) !== undefined || zone.hasName(text, this.o.zone, entry.fqdn)
    );
  }

  async usage() {
    const text = await this.text();
    return {
      ips: zone.usedAddresses(text),
      macs: [],
      ports: [],
      names: zone.names(text, this.o.zone),
    };
  }

  /** Absolute name → addresses, so dhcpd's hand-written `fixed-address <name>` can be resolved. */
  async addresses(): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    for (const r of records(await this.text(), this.o.zone)) {
      if (r.type === "A" && r.rdata[0]) map.set(r.owner, [...(map.get(r.owner) ?? []), r.rdata[0]]);
    }
    return map;
  }

  private validate = async (c: Candidates) => {
    await validateZone(this.o.runner, this.o.zone, c.get(this.o.zoneFile)!, this.o.check);
  };

  private today(): Date {
    return (this.o.today ?? (() => new Date()))();
  }

  private bump(text: string): string {
    return zone.bumpSerial(text, this.today());
  }

  /** An undo puts the records back, never the serial: it goes above the one served now. */
  private restoring = (before: string, current: string): string =>
    zone.restoreAbove(before, current, this.today());

  async add(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    const before = await this.text();
    if (zone.findEntry(before, entry.fqdn)) return;
    const after = this.bump(zone.addEntry(before, entry, zone.render(this.o.templates, entry)));
    await commitEdit(this.o, [{ path: this.o.zoneFile, before, after }], this.validate, record);
  }

  async remove(entry: VmEntry, record: (r: Revert) => void = () => {}): Promise<void> {
    const before = await this.text();
    if (!zone.findEntry(before, entry.fqdn)) return;
    const after = this.bump(zone.removeEntry(before, entry.fqdn));
    await commitEdit(this.o, [{ path: this.o.zoneFile, before, after }], this.validate, record);
  }

  revert(entry: VmEntry, data: Revert | undefined): Promise<void> {
    return revertEdit(this.o, data, this.validate, () => this.remove(entry), this.restoring);
  }

  /** Undoes remove: the exact previous bytes if nobody touched the file since, else add again. */
  restore(entry: VmEntry, data: Revert | undefined): Promise<void> {
    return revertEdit(this.o, data, this.validate, () => this.add(entry, () => {}), this.restoring);
  }

  waitResolves(entry: VmEntry): Promise<boolean> {
    return waitForName(this.o.resolve, entry.fqdn, entry.ip, this.o.resolveTimeoutMs);
  }

  async inspect(entry: VmEntry): Promise<Inspection> {
    return this.inspectIn(await this.text(), entry);
  }

  /** Each entry's inspection from one read of the files (audit: 1,000 VMs, not 1,000 reads). */
  async inspectAll(entries: readonly VmEntry[]): Promise<Inspection[]> {
    const text = await this.text();
    let parsed: ReturnType<typeof records> | undefined; // the zone's records, parsed once if needed
    return entries.map((e) =>
      this.inspectIn(text, e, () => (parsed ??= records(text, this.o.zone))),
    );
  }

  private inspectIn(
    text: string,
    entry: VmEntry,
    zoneRecords = () => records(text, this.o.zone),
  ): Inspection {
    const block = zone.findEntry(text, entry.fqdn);
    if (!block) {
      const hand = mentioning(this.o.zoneFile, text, [entry.zoneName, entry.fqdn]);
      const ips = zoneRecords().filter(
        (r) => r.type === "A" && r.owner === entry.fqdn.toLowerCase(),
      );
      return {
        present: false,
        lines: hand ? [hand] : [],
        values: ips[0] ? { ip: ips[0].rdata[0] } : {},
      };
    }
    const ip = /\bIN\s+A\s+(\S+)/.exec(block.body)?.[1];
    return {
      present: true,
      lines: [blockLines(this.o.zoneFile, text, block)],
      values: ip ? { ip } : {},
    };
  }

  /** farmctl import: wraps the VM's hand-written record in farmctl's markers (no serial bump: no record changes). */
  async adopt(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    const before = await this.text();
    if (zone.findEntry(before, entry.fqdn)) return;
    const hand = (await this.inspect(entry)).lines[0];
    if (!hand) return;
    const after = wrapLines(before, hand.text, zone.COMMENT, entry.fqdn, this.o.zoneFile);
    await commitEdit(this.o, [{ path: this.o.zoneFile, before, after }], this.validate, record);
  }

  unadopt(_entry: VmEntry, data: Revert | undefined): Promise<void> {
    return unadoptEdit(this.o, data, this.validate);
  }

  async blockNames(): Promise<string[]> {
    return blockNames(await this.text(), zone.COMMENT);
  }
}
