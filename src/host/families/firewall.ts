// Shorewall: a DNAT rule plus the VM's address param, checked together by `shorewall check` on a
// copy of the config dir, then shorewall reloaded (never the seed's restart-then-clear).
import { NotFound } from "../../api/errors.js";
import { validateShorewall, type CheckOptions } from "../confedit/checkers.js";
import type { VmEntry } from "../confedit/entry.js";
import { blockNames } from "../confedit/blocks.js";
import { blockLines, mentioning, wrapLines, type Inspection } from "./lines.js";
import * as sw from "../confedit/shorewall.js";
import { withCandidateDir, type Candidates } from "../files.js";
import type { Runner } from "../runner.js";
import type { Templates } from "../templates.js";
import { dirname, join } from "node:path";
import { commitEdit, revertEdit, unadoptEdit, type FamilyIo, type Revert } from "./edit.js";

export interface FirewallFamilyOptions extends FamilyIo {
  runner: Runner;
  templates: Templates;
  rules: string;
  params: string;
  check: CheckOptions;
  /** Where shorewall finds macro.<Name> files; default its CONFIG_PATH: the rules' dir, then /usr/share/shorewall. */
  macroDirs?: string[];
}

/** Macros inside macros (macro.Web invokes HTTP and HTTPS): deeper than this is a loop. */
const MACRO_DEPTH = 4;

export class FirewallFamily {
  readonly label = "shorewall";
  readonly paths: string[];

  constructor(private readonly o: FirewallFamilyOptions) {
    this.paths = [o.rules, o.params];
  }

  private async read(path: string, key: string): Promise<string> {
    const text = await this.o.files.read(path);
    if (text === null)
      throw new NotFound(
        `shorewall ${key} file ${path} does not exist`,
        `set [firewall] ${key} in farmd.toml`,
      );
    return text;
  }

  async texts(): Promise<{ rules: string; params: string }> {
    return {
      rules: await this.read(this.o.rules, "rules"),
      params: await this.read(this.o.params, "params"),
    };
  }

  async has(entry: VmEntry): Promise<boolean> {
    const { rules, params } = await this.texts();
    return (
      sw.findRule(rules, entry.fqdn) !== undefined ||
      sw.findParam(params, entry.fqdn) !== undefined ||
      sw.params(params).has(entry.shorewallParam)
    );
  }

  async usage() {
    const { rules, params } = await this.texts();
    const values = sw.params(params);
    return {
      ips: [...values.values()].filter((v) => /^\d+\.\d+\.\d+\.\d+$/.test(v)),
      macs: [],
      ports: sw.usedPorts(rules),
      names: [...values.keys()],
    };
  }

  /** Each port a rule opens on the host (its own or its macro's) → the rule, for refusals that name it. */
  async portHolders(): Promise<Map<number, string>> {
    const { rules } = await this.texts();
    const macros = new Map<string, number[]>();
    for (const name of sw.macroNames(rules)) macros.set(name, await this.macroPorts(name, 0));
    const out = new Map<number, string>();
    for (const { port, rule } of sw.portRules(rules, (m) => macros.get(m) ?? [])) {
      if (!out.has(port)) out.set(port, `shorewall rule '${rule}' in ${this.o.rules}`);
    }
    return out;
  }

  /** Each address a shorewall param names (FW=10.10.60.3) → the param, for refusals that name it. */
  async paramAddresses(): Promise<Map<string, string>> {
    const { params } = await this.texts();
    const out = new Map<string, string>();
    for (const [name, value] of sw.params(params))
      for (const ip of value.split(/[\s,]+/).filter((v) => /^\d+\.\d+\.\d+\.\d+$/.test(v)))
        if (!out.has(ip)) out.set(ip, `shorewall param ${name} in ${this.o.params}`);
    return out;
  }

  /** The TCP ports shorewall's own macro.<name> opens, nested macros included; none if no such macro. */
  private async macroPorts(name: string, depth: number): Promise<number[]> {
    const dirs = this.o.macroDirs ?? [dirname(this.o.rules), "/usr/share/shorewall"];
    for (const dir of dirs) {
      const text = await this.o.files.read(join(dir, `macro.${name}`));
      if (text === null) continue;
      const nested = depth < MACRO_DEPTH ? sw.macroNames(text, true) : [];
      const inner = await Promise.all(nested.map((n) => this.macroPorts(n, depth + 1)));
      return [...sw.macroFilePorts(text), ...inner.flat()];
    }
    return [];
  }

  /** The public port of every DNAT rule, one entry per rule (a port twice is a conflict). */
  async dnatPorts(): Promise<number[]> {
    const { rules } = await this.texts();
    return rules.split("\n").flatMap((line) => sw.usedPorts(line));
  }

  private validate = async (c: Candidates) => {
    await withCandidateDir(dirname(this.o.rules), c, (dir) =>
      validateShorewall(this.o.runner, dir, { ...this.o.check, file: this.o.rules }).then(
        () => undefined,
      ),
    );
  };

  async add(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    const { rules, params } = await this.texts();
    if (sw.findRule(rules, entry.fqdn) && sw.findParam(params, entry.fqdn)) return;
    const edits = [
      {
        path: this.o.params,
        before: params,
        after: sw.findParam(params, entry.fqdn)
          ? params
          : sw.addParam(params, entry, sw.renderParam(this.o.templates, entry)),
      },
      {
        path: this.o.rules,
        before: rules,
        after: sw.findRule(rules, entry.fqdn)
          ? rules
          : sw.addRule(rules, entry, sw.renderRule(this.o.templates, entry)),
      },
    ];
    await commitEdit(this.o, edits, this.validate, record);
  }

  async remove(entry: VmEntry, record: (r: Revert) => void = () => {}): Promise<void> {
    const { rules, params } = await this.texts();
    if (!sw.findRule(rules, entry.fqdn) && !sw.findParam(params, entry.fqdn)) return;
    const edits = [
      {
        path: this.o.rules,
        before: rules,
        after: sw.findRule(rules, entry.fqdn) ? sw.removeRule(rules, entry.fqdn) : rules,
      },
      {
        path: this.o.params,
        before: params,
        after: sw.findParam(params, entry.fqdn) ? sw.removeParam(params, entry.fqdn) : params,
      },
    ];
    await commitEdit(this.o, edits, this.validate, record);
  }

  revert(entry: VmEntry, data: Revert | undefined): Promise<void> {
    return revertEdit(this.o, data, this.validate, () => this.remove(entry));
  }

  /** Undoes remove: the exact previous bytes if nobody touched the file since, else add again. */
  restore(entry: VmEntry, data: Revert | undefined): Promise<void> {
    return revertEdit(this.o, data, this.validate, () => this.add(entry, () => {}));
  }

  async inspect(entry: VmEntry): Promise<Inspection> {
    return this.inspectIn(await this.texts(), entry);
  }

  /** Each entry's inspection from one read of the files (audit: 1,000 VMs, not 1,000 reads). */
  async inspectAll(entries: readonly VmEntry[]): Promise<Inspection[]> {
    const texts = await this.texts();
    return entries.map((e) => this.inspectIn(texts, e));
  }

  private inspectIn(
    { rules, params }: { rules: string; params: string },
    entry: VmEntry,
  ): Inspection {
    const rule = sw.findRule(rules, entry.fqdn);
    const param = sw.findParam(params, entry.fqdn);
    const ruleLines = rule
      ? blockLines(this.o.rules, rules, rule)
      : mentioning(this.o.rules, rules, [`$${entry.shorewallParam}`, entry.ip]);
    const paramLines = param
      ? blockLines(this.o.params, params, param)
      : mentioning(this.o.params, params, [entry.shorewallParam]);
    const lines = [ruleLines, paramLines].filter((l) => l !== null);
    const port = ruleLines ? sw.usedPorts(ruleLines.text)[0] : undefined;
    const ip = sw.params(paramLines?.text ?? "").get(entry.shorewallParam);
    return {
      present: Boolean(rule && param),
      lines,
      values: { ...(port ? { port } : {}), ...(ip ? { ip } : {}) },
    };
  }

  /** farmctl import: wraps the VM's hand-written DNAT rule and param in farmctl's markers. */
  async adopt(entry: VmEntry, record: (r: Revert) => void): Promise<void> {
    const { rules, params } = await this.texts();
    const seen = await this.inspect(entry);
    const hand = (path: string) => seen.lines.find((l) => l.path === path && !l.farmctl);
    const wrap = (path: string, text: string) => {
      const h = hand(path);
      return h ? wrapLines(text, h.text, sw.COMMENT, entry.fqdn, path) : text;
    };
    const edits = [
      { path: this.o.rules, before: rules, after: wrap(this.o.rules, rules) },
      { path: this.o.params, before: params, after: wrap(this.o.params, params) },
    ];
    if (edits.every((e) => e.after === e.before)) return;
    await commitEdit(this.o, edits, this.validate, record);
  }

  unadopt(_entry: VmEntry, data: Revert | undefined): Promise<void> {
    return unadoptEdit(this.o, data, this.validate);
  }

  async blockNames(): Promise<string[]> {
    const { rules, params } = await this.texts();
    return [...new Set([...blockNames(rules, sw.COMMENT), ...blockNames(params, sw.COMMENT)])];
  }
}
