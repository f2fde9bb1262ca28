// dhcpd.conf: farmctl's host declarations in "# farmctl" blocks at the top level, and what the
// hand-written hosts, routers and pools already use.
import type { Templates } from "../templates.js";
import { addBlock, findBlock, removeBlock, type Block } from "./blocks.js";
import { statements, tokenize } from "./conf-tokens.js";
import { checkEntry, ipToInt, isIpv4, type VmEntry, hostContext } from "./entry.js";

export const COMMENT = "#";
export const TEMPLATE = "dhcpd-host.njk";

export function render(templates: Pick<Templates, "render">, entry: VmEntry): string {
  checkEntry(entry, ["fqdn", "mac", "ip", "netmask"]);
  return templates.render(TEMPLATE, hostContext(entry));
}

export function addEntry(text: string, entry: VmEntry, rendered: string): string {
  checkEntry(entry, ["fqdn"]);
  return addBlock(text, COMMENT, entry.fqdn, rendered);
}

export function removeEntry(text: string, fqdn: string): string {
  return removeBlock(text, COMMENT, fqdn);
}

export function findEntry(text: string, fqdn: string): Block | undefined {
  return findBlock(text, COMMENT, fqdn);
}

/** "52:54:0:a:b:c" and "52:54:00:0A:0B:0C" are the same card. */
export function normaliseMac(mac: string): string {
  return mac
    .split(":")
    .map((b) => b.toLowerCase().padStart(2, "0"))
    .join(":");
}

/**
 * Addresses taken by fixed-address and option routers. A fixed-address given as a name (as the
 * seed's hand-written hosts do) counts only if `resolve` knows it, e.g. from the zone's A records.
 */
export function usedAddresses(
  text: string,
  resolve: (name: string) => readonly string[] = () => [],
): string[] {
  const toks = tokenize(text);
  const vals = [...statements(toks, ["fixed-address"]), ...statements(toks, ["option", "routers"])];
  const isName = (v: string): boolean => !isIpv4(v);
  const ips = vals.flat().flatMap((v) => (isName(v) ? resolve(v.toLowerCase()) : [v]));
  return [...new Set(ips)];
}

/** Dynamic pools (`range a b;`): a fixed address inside one would be handed out twice. */
export function ranges(text: string): { first: string; last: string }[] {
  return statements(tokenize(text), ["range"]).flatMap((v) => {
    const ips = v.filter(isIpv4);
    const [first, last] = ips;
    return first ? [{ first, last: last ?? first }] : [];
  });
}

export function inRanges(text: string, ip: string): boolean {
  const n = ipToInt(ip);
  return ranges(text).some((r) => ipToInt(r.first) <= n && n <= ipToInt(r.last));
}

export function usedMacs(text: string): string[] {
  const macs = statements(tokenize(text), ["hardware", "ethernet"]).flatMap((v) =>
    v[0] ? [normaliseMac(v[0])] : [],
  );
  return [...new Set(macs)];
}

/** Names of every `host NAME {` declaration, lowercase. */
export function hostNames(text: string): string[] {
  const names = statements(tokenize(text), ["host"]).flatMap((v) =>
    v[0] ? [v[0].toLowerCase()] : [],
  );
  return [...new Set(names)];
}
