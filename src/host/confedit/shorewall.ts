// /etc/shorewall/rules and params: farmctl's DNAT rule and VM param in "# farmctl" blocks, placed
// where shorewall reads them as NEW-section rules, and the ports and params already in use.
import { BadInput } from "../../api/errors.js";
import type { Templates } from "../templates.js";
import { addBlock, findBlock, removeBlock, type Block } from "./blocks.js";
import { checkEntry, type VmEntry, hostContext } from "./entry.js";

export const COMMENT = "#";
export const RULE_TEMPLATE = "shorewall-rule.njk";
export const PARAM_TEMPLATE = "shorewall-param.njk";

export function renderRule(templates: Pick<Templates, "render">, entry: VmEntry): string {
  checkEntry(entry, ["fqdn", "shorewallParam", "sshPort", "publicAddress"]);
  return templates.render(RULE_TEMPLATE, hostContext(entry));
}

export function renderParam(templates: Pick<Templates, "render">, entry: VmEntry): string {
  checkEntry(entry, ["fqdn", "shorewallParam", "ip"]);
  return templates.render(PARAM_TEMPLATE, hostContext(entry));
}

/** Lines with comments stripped and "\" continuations joined, each with its start offset. */
function logicalLines(text: string): { start: number; text: string }[] {
  const out: { start: number; text: string }[] = [];
  let pending: { start: number; text: string } | undefined;
  let start = 0;
  for (const raw of text.split("\n")) {
    const body = raw.replace(/#.*$/, "").trimEnd();
    const cur = pending ?? { start, text: "" };
    cur.text += (cur.text ? " " : "") + body.replace(/\\$/, "").trim();
    pending = body.endsWith("\\") ? cur : undefined;
    if (!pending && cur.text) out.push(cur);
    start += raw.length + 1;
  }
  if (pending?.text) out.push(pending);
  return out;
}

/**
 * Where a block goes: before a trailing "#LAST LINE -- ADD YOUR ENTRIES BEFORE THIS ONE" (the
 * shorewall 4 files of the seed's era), otherwise at the end.
 */
export function insertionPoint(text: string): number | undefined {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0 && i + 1 < text.length; i = text.indexOf("\n", i + 1)) {
    starts.push(i + 1);
  }
  for (let k = starts.length - 1; k >= 0; k--) {
    const line = text.slice(starts[k], starts[k + 1] ?? text.length).trim();
    if (/^#\s*LAST LINE\b/i.test(line)) return starts[k];
    if (line && !line.startsWith("#")) return undefined; // real content after any marker
  }
  return undefined;
}

/** DNAT is only valid in the NEW section: refuse a file whose last ?SECTION is another one. */
function checkNewSection(rules: string): void {
  const sections = logicalLines(rules).flatMap((l) => {
    const m = /^\??SECTION\s+(\S+)/i.exec(l.text);
    return m ? [m[1]!.toUpperCase()] : [];
  });
  const last = sections[sections.length - 1];
  if (last !== undefined && last !== "NEW") {
    throw new BadInput(
      `the shorewall rules file ends in ?SECTION ${last}, where a DNAT rule is not allowed`,
      "add a `?SECTION NEW` line at the end of the rules file",
    );
  }
}

export function addRule(rules: string, entry: VmEntry, rendered: string): string {
  checkEntry(entry, ["fqdn"]);
  checkNewSection(rules);
  return addBlock(rules, COMMENT, entry.fqdn, rendered, insertionPoint(rules));
}

export function removeRule(rules: string, fqdn: string): string {
  return removeBlock(rules, COMMENT, fqdn);
}

export function findRule(rules: string, fqdn: string): Block | undefined {
  return findBlock(rules, COMMENT, fqdn);
}

export function addParam(params: string, entry: VmEntry, rendered: string): string {
  checkEntry(entry, ["fqdn"]);
  return addBlock(params, COMMENT, entry.fqdn, rendered, insertionPoint(params));
}

export function removeParam(params: string, fqdn: string): string {
  return removeBlock(params, COMMENT, fqdn);
}

export function findParam(params: string, fqdn: string): Block | undefined {
  return findBlock(params, COMMENT, fqdn);
}

function ports(list: string): number[] {
  return list.split(",").flatMap((item) => {
    const m = /^(\d+)(?::(\d+))?$/.exec(item.trim());
    if (!m) return []; // service names, negations, "-"
    const lo = Number(m[1]);
    const hi = Math.min(Number(m[2] ?? m[1]), 65535);
    return Array.from({ length: Math.max(0, hi - lo + 1) }, (_, k) => lo + k);
  });
}

/** The macro an action invokes: "SSH" for `SSH(ACCEPT)` or `SSH/ACCEPT`, else null. */
export function macroOf(action: string): string | null {
  return /^([A-Za-z][A-Za-z0-9_]*)(?:\(|\/)/.exec(action)?.[1] ?? null;
}

interface PortRule {
  port: number;
  /** The rule as written (comment and continuations removed). */
  rule: string;
}

/**
 * Ports taken on the firewall's public side: DEST PORT of every DNAT/REDIRECT rule and of every
 * rule to $FW, hand-written or farmctl's, and the ports of the macro a rule invokes (`SSH(ACCEPT)`
 * opens 22): `macroPorts` gives them. Reads positional columns and "; dport=" pairs.
 */
export function portRules(
  rules: string,
  macroPorts: (macro: string) => number[] = () => [],
): PortRule[] {
  const out: PortRule[] = [];
  for (const { text } of logicalLines(rules)) {
    if (/^(\?|SECTION\b|INCLUDE\b|FORMAT\b|COMMENT\b)/i.test(text)) continue;
    const [positional = "", pairs = ""] = text.split(";", 2);
    const cols = positional.trim().split(/\s+/);
    const [action = "", , dest = ""] = cols;
    if (!/DNAT|REDIRECT/i.test(action) && !/^(\$FW|fw)(:|$)/.test(dest)) continue;
    const kv = /(?:^|[\s,{])dport=(\S+?)(?:[\s,}]|$)/.exec(pairs);
    const macro = macroOf(action);
    const own = ports(kv?.[1] ?? cols[4] ?? "");
    for (const port of [...own, ...(macro ? macroPorts(macro) : [])])
      out.push({ port, rule: text });
  }
  return out;
}

/** The distinct ports of portRules, sorted. */
export function usedPorts(rules: string, macroPorts?: (macro: string) => number[]): number[] {
  return [...new Set(portRules(rules, macroPorts).map((r) => r.port))].sort((a, b) => a - b);
}

/** The macros a rules file (or a macro file) invokes, by name: `SSH(ACCEPT)`, or `HTTP` in macro.Web. */
export function macroNames(text: string, bare = false): string[] {
  const names = logicalLines(text).flatMap(({ text: line }) => {
    const action = line.split(/\s+/)[0] ?? "";
    const bareName = bare && /^[A-Z][A-Za-z0-9_]*$/.test(action) && action !== "PARAM";
    const name = bareName ? action : macroOf(action);
    return name ? [name] : [];
  });
  return [...new Set(names)];
}

/** The TCP ports a macro file (/usr/share/shorewall/macro.SSH) opens itself, nested macros aside. */
export function macroFilePorts(macro: string): number[] {
  return logicalLines(macro).flatMap(({ text }) => {
    const [action = "", , , proto = "-", dport = ""] = text.split(/\s+/);
    if (action.startsWith("?") || !/^(tcp|6|-)$/i.test(proto)) return [];
    return ports(dport);
  });
}

export function params(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    const raw = m[2]!.trim();
    const q = /^(["'])(.*)\1/.exec(raw);
    out.set(m[1]!, q ? q[2]! : raw.replace(/\s+#.*$/, ""));
  }
  return out;
}
