// Human formatting of bytes and durations for the CLI.
import { formatDuration as shortDuration } from "../config/duration.js";

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

/** A lease's end for people: the time left and the date, "1h59m left (2026-12-02 19:41:07 UTC)". */
export function formatExpiry(iso: string, now = Date.now()): string {
  const end = Date.parse(iso);
  if (!Number.isFinite(end)) return iso;
  const date = new Date(end)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  const left =
    end > now ? `${shortDuration(end - now)} left` : `ran out ${shortDuration(now - end)} ago`;
  return `${left} (${date})`;
}

/** The guest section of `show` and of a clone's summary: what its first boot printed. */
export function formatGuest(g: {
  hostname: string | null;
  machineId: string | null;
  sshHostKeys: { bits: number; fingerprint: string; comment: string; type: string }[] | null;
}): string {
  const keys = g.sshHostKeys?.length
    ? g.sshHostKeys.map((k) => `  host key   ${k.bits} ${k.fingerprint} ${k.comment} (${k.type})`)
    : ["  host keys  -"];
  return `guest:\n  hostname   ${g.hostname ?? "-"}\n  machine-id ${g.machineId ?? "-"}\n${keys.join("\n")}\n`;
}
