// Value checks of farmd.toml beyond types: each refusal says what a good value looks like.
import { Address4 } from "ip-address";
import { z } from "zod";
import { formatDuration, parseDuration } from "./duration.js";
import { parseSize } from "./size.js";

const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

export const domain = (example: string) =>
  z
    .string()
    .refine(
      (s) => s.length <= 253 && DOMAIN.test(s),
      `must be a lowercase DNS name like ${example}`,
    );

/** A size farmd hands to LVM, Ganeti or a monitor: positive, and a whole number of MiB when asked. */
export const size = (example: string, wholeMiB = false) => {
  const message = `must be a positive size like ${example}${wholeMiB ? " (whole MiB: M, G or T)" : ""}`;
  return z
    .string({ error: `${message}, written as a string` })
    .refine((s) => isSize(s) && (!wholeMiB || parseSize(s) % 2 ** 20 === 0), message);
};

export function isSize(s: string): boolean {
  try {
    return parseSize(s) > 0;
  } catch {
    return false;
  }
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** Whole seconds from 30, "30", "30s", "2m" or "1h"; null if not one of those. */
export function parseSeconds(v: number | string): number | null {
  if (typeof v === "number") return Number.isInteger(v) && v >= 0 ? v : null;
  const m = /^(\d+)([smh]?)$/.exec(v.trim());
  return m ? Number(m[1]) * UNIT_SECONDS[m[2] || "s"]! : null;
}

/** A duration given in seconds (30) or with a unit ("30s", "2m"), at most `max` seconds. */
export const seconds = (example: string, max: number) => {
  const message = `must be whole seconds like ${example} (or with a unit: s, m, h), at most ${max} s`;
  return z.union([z.number(), z.string()], { error: message }).transform((v, ctx) => {
    const n = parseSeconds(v);
    if (n !== null && n <= max) return n;
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
};

/** A duration with a unit ("30s", "2h", "30d") → milliseconds, from `minMs` to `maxMs`. */
export const duration = (example: string, minMs: number, maxMs: number) => {
  const range = `from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
  const message = `must be a duration like ${example} (a number and a unit: s, m, h, d or w), ${range}`;
  return z.string({ error: message }).transform((v, ctx) => {
    try {
      const ms = parseDuration(v);
      if (ms >= minMs && ms <= maxMs) return ms;
    } catch {
      // reported below, with the range
    }
    ctx.addIssue({ code: "custom", message });
    return z.NEVER;
  });
};

export const isIpv4 = (s: string) => Address4.isValid(s) && !s.includes("/");

/** An IPv4 network that leaves room for VMs: prefix /8 to /30, host bits zero. */
export const subnet = z.string().refine((s) => {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s);
  if (!m || !isIpv4(m[1]!) || Number(m[2]) < 8 || Number(m[2]) > 30) return false;
  return new Address4(s).startAddress().correctForm() === m[1];
}, "must be an IPv4 network with a /8 to /30 prefix and its host bits zero, like 10.10.60.0/24");

/** "22000-22255": the first and last SSH port farmctl may forward. */
export const portRange = z
  .string()
  .refine(
    (s) => parsePortRange(s) !== null,
    "must be a range of TCP ports like 22000-22255 (first <= last, both 1-65535)",
  );

export function parsePortRange(s: string): { first: number; last: number } | null {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(s.trim());
  if (!m) return null;
  const [first, last] = [Number(m[1]), Number(m[2])];
  return first >= 1 && first <= last && last <= 65535 ? { first, last } : null;
}

/** A systemd unit name, as systemctl takes it. */
export const unitName = z
  .string()
  .regex(
    /^[A-Za-z0-9:_.\\@-]+\.(service|socket|target|mount|timer|path|scope|slice)$/,
    "must be a systemd unit name like nginx.service",
  );

/** shorewall's public address: a $PARAM from the params file, or an IPv4 address. */
export const publicAddress = z
  .string()
  .refine(
    (s) => /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(s) || isIpv4(s),
    "must be a shorewall param like $IP_FAILOVER or an IPv4 address",
  );

/** A host address of `cidr`: inside it, neither its network nor its broadcast address. */
export function hostOf(cidr: string, ip: string): boolean {
  if (!Address4.isValid(cidr)) return false;
  const net = new Address4(cidr);
  const n = new Address4(ip).bigInt();
  return n > net.startAddress().bigInt() && n < net.endAddress().bigInt();
}
