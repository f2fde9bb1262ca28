// The bind zone file (/etc/bind/db.farm): farmctl's A records in "; farmctl" blocks, the SOA serial
// bump every edit needs, and what hand-written records already use.
import { BadInput } from "../../api/errors.js";
import type { Templates } from "../templates.js";
import { addBlock, findBlock, removeBlock, type Block } from "./blocks.js";
import { checkEntry, checkFqdn, isIpv4, type VmEntry, hostContext } from "./entry.js";
import { finalOrigin, findSerial, records } from "./zone-parse.js";

export const COMMENT = ";";
export const TEMPLATE = "zone-record.njk";

export function render(templates: Pick<Templates, "render">, entry: VmEntry): string {
  checkEntry(entry, ["fqdn", "zoneName", "ip"]);
  return templates.render(TEMPLATE, hostContext(entry));
}

/** The zone's name, from instance = <zoneName>.<zone> ("farm"). */
export function zoneOrigin(entry: VmEntry): string {
  checkEntry(entry, ["fqdn", "zoneName"]);
  const { fqdn, zoneName } = entry;
  if (!fqdn.toLowerCase().startsWith(`${zoneName.toLowerCase()}.`)) {
    throw new BadInput(`${fqdn} is not ${zoneName} inside a zone`, "check [names] and [dns] zone");
  }
  return fqdn.slice(zoneName.length + 1);
}

/** Appends the block; if the file switched $ORIGIN, the block switches back so its relative name holds. */
export function addEntry(text: string, entry: VmEntry, rendered: string): string {
  const origin = zoneOrigin(entry);
  const last = finalOrigin(text, origin);
  const body = last !== undefined && last !== origin.toLowerCase() ? `$ORIGIN ${origin}.\n` : "";
  return addBlock(text, COMMENT, entry.fqdn, body + rendered);
}

export function removeEntry(text: string, fqdn: string): string {
  return removeBlock(text, COMMENT, fqdn);
}

export function findEntry(text: string, fqdn: string): Block | undefined {
  return findBlock(text, COMMENT, fqdn);
}

/** IPv4 addresses of every A record, farmctl's or hand-written. */
export function usedAddresses(text: string): string[] {
  const ips = records(text, "").flatMap((r) =>
    r.type === "A" && isIpv4(r.rdata[0]) ? [r.rdata[0]] : [],
  );
  return [...new Set(ips)];
}

/**
 * Absolute owner names (lowercase, no trailing dot) of every record: a CNAME or TXT takes a name
 * as surely as an A record does. `origin` is the zone's name ("farm").
 */
export function names(text: string, origin: string): string[] {
  return [...new Set(records(text, origin).map((r) => r.owner))];
}

export function hasName(text: string, origin: string, fqdn: string): boolean {
  checkFqdn(fqdn);
  return names(text, origin).includes(fqdn.toLowerCase());
}

const MAX_SERIAL = 4294967295;

function dateKey(d: Date): string {
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1, 2)}${p(d.getUTCDate(), 2)}`;
}

/** A YYYYMMDDnn serial: ten digits whose first eight are a plausible date. */
export function isDateSerial(serial: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})\d{2}$/.exec(serial);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return y >= 1980 && y <= 2099 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31;
}

/** Today's YYYYMMDD00 for date serials unless that would not increase it; else +1 (RFC 1982 wrap). */
export function nextSerial(current: string, today: Date): number {
  const cur = Number(current);
  const plusOne = cur >= MAX_SERIAL ? 0 : cur + 1;
  if (!isDateSerial(current)) return plusOne;
  return Math.max(Number(`${dateKey(today)}00`), plusOne);
}

export function soaSerial(text: string): number {
  const t = findSerial(text);
  if (!t)
    throw new BadInput("no SOA serial found in the zone file", "the zone needs an SOA record");
  return Number(t.value);
}

/** Rewrites only the serial's digits, wherever the SOA puts them (one line or parenthesised). */
function withSerial(text: string, serial: (current: string) => number): string {
  const t = findSerial(text);
  if (!t)
    throw new BadInput("no SOA serial found in the zone file", "the zone needs an SOA record");
  return text.slice(0, t.start) + String(serial(t.value)) + text.slice(t.end);
}

export function bumpSerial(text: string, today: Date): string {
  return withSerial(text, (current) => nextSerial(current, today));
}

/**
 * `restored` (a zone as it was before an edit) with the serial after `served`'s: secondaries and
 * caches only take a zone whose serial went up, so an undo never brings an old serial back.
 */
export function restoreAbove(restored: string, served: string, today: Date): string {
  const above = nextSerial(String(soaSerial(served)), today);
  return withSerial(restored, () => above);
}
