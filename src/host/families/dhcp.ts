// dhcpd.conf: one host block per VM (MAC → IP), checked by dhcpd -t, dhcpd restarted (no reload).
import { NotFound } from "../../api/errors.js";
import { validateDhcpd, type CheckOptions } from "../confedit/checkers.js";
import * as dhcpd from "../confedit/dhcpd.js";
import type { VmEntry } from "../confedit/entry.js";
import { blockNames } from "../confedit/blocks.js";
import { blockLines, mentioning, wrapLines, type Inspection } from "./lines.js";
import type { Candidates } from "../files.js";
import type { Runner } from "../runner.js";
import type { Templates } from "../templates.js";
import { commitEdit, revertEdit, unadoptEdit, type FamilyIo, type Revert } from "./edit.js";

export interface DhcpFamilyOptions extends FamilyIo {
  runner: Runner;
  templates: Templates;
  config: string;
  check: CheckOptions;
  /** Addresses of names in the zone, for hosts whose fixed-address is a name (as in the seed). */
  zoneAddresses: () => Promise<Map<string, string[]>>;
}

export class DhcpFamily {
  readonly label = "dhcpd.conf";
  readonly paths: string[];

  constructor(private readonly o: DhcpFamilyOptions) {
    this.paths = [o.config];
  }

  async text(): Promise<string> {
    const text = await this.o.files.read(this.o.config);
    if (text === null)
      throw new NotFound(
        `dhcpd config ${this.o.config} does not exist`,
        "set [dhcp] config in farmd.toml",
      );
    return text;
  }

  async has(entry: VmEntry): Promise<boolean> {
    const text = await this.text();
    return (
      dhcpd.findEntry(text, entry.fqdn) !== undefined || dhcpd.hostNames(text).includes(entry.fqdn)
    );
  }

  async usage() {
    const text = await this.text();
    const names = await this.o.zoneAddresses();
    return {
      ips: dhcpd.usedAddresses(text, (n) => names.get(n.replace(/\.$/, "")) ?? []),
      macs: dhcpd.usedMacs(text),
      ports: [],
      names: dhcpd.hostNames(text),
    };
  }

  private validate = async (c: Candidates) => {
    await validateDhcpd(this.o.runner, c.get(this.o.config)!, this.o.check);
  };

  async add(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    const before = await this.text();
    if (dhcpd.findEntry(before, entry.fqdn)) return;
    const after = dhcpd.addEntry(before, entry, dhcpd.render(this.o.templates, entry));
    await commitEdit(this.o, [{ path: this.o.config, before, after }], this.validate, record);
  }

  async remove(entry: VmEntry, record: (r: Revert) => void = () => {}): Promise<void> {
    const before = await this.text();
    if (!dhcpd.findEntry(before, entry.fqdn)) return;
    await commitEdit(
      this.o,
      [{ path: this.o.config, before, after: dhcpd.removeEntry(before, entry.fqdn) }],
      this.validate,
      record,
    );
  }

  revert(entry: VmEntry, data: Revert | undefined): Promise<void> {
    return revertEdit(this.o, data, this.validate, () => this.remove(entry));
  }

  /** Undoes remove: the exact previous bytes if nobody touched the file since, else add again. */
  restore(entry: VmEntry, data: Revert | undefined): Promise<void> {
    return revertEdit(this.o, data, this.validate, () => this.add(entry, () => {}));
  }

  /** Every host declaration with its MAC and fixed address, duplicates kept (audit counts them). */
  async hosts(): Promise<{ name: string; mac?: string; ip?: string }[]> {
    const text = await this.text();
    const out: { name: string; mac?: string; ip?: string }[] = [];
    const re = /(^|\n)\s*host\s+([^\s{]+)\s*\{([^}]*)\}/g;
    for (let m = re.exec(text); m; m = re.exec(text))
      out.push({ name: m[2]!.replace(/"/g, ""), ...hostValues(m[3]!) });
    return out;
  }

  async inspect(entry: VmEntry): Promise<Inspection> {
    return this.inspectIn(await this.text(), entry);
  }

  /** Each entry's inspection from one read of the files (audit: 1,000 VMs, not 1,000 reads). */
  async inspectAll(entries: readonly VmEntry[]): Promise<Inspection[]> {
    const text = await this.text();
    return entries.map((e) => this.inspectIn(text, e));
  }

  private inspectIn(text: string, entry: VmEntry): Inspection {
    const block = dhcpd.findEntry(text, entry.fqdn);
    if (!block) {
      const hand = mentioning(this.o.config, text, [entry.fqdn, entry.name]);
      return {
        present: false,
        lines: hand ? [hand] : [],
        values: hand ? hostValues(hand.text) : {},
      };
    }
    return {
      present: true,
      lines: [blockLines(this.o.config, text, block)],
      values: hostValues(block.body),
    };
  }

  /** farmctl import: wraps the VM's hand-written host block in farmctl's markers. */
  async adopt(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    const before = await this.text();
    if (dhcpd.findEntry(before, entry.fqdn)) return;
    const hand = (await this.inspect(entry)).lines[0];
    if (!hand) return;
    const after = wrapLines(before, hand.text, dhcpd.COMMENT, entry.fqdn, this.o.config);
    await commitEdit(this.o, [{ path: this.o.config, before, after }], this.validate, record);
  }

  unadopt(_entry: VmEntry, data: Revert | undefined): Promise<void> {
    return unadoptEdit(this.o, data, this.validate);
  }

  async blockNames(): Promise<string[]> {
    return blockNames(await this.text(), dhcpd.COMMENT);
  }
}

/** MAC and fixed address of one host declaration. */
function hostValues(text: string): { mac?: string; ip?: string } {
  const mac = dhcpd.usedMacs(text)[0];
  const ip = dhcpd.usedAddresses(text)[0];
  return { ...(mac ? { mac } : {}), ...(ip ? { ip } : {}) };
}
