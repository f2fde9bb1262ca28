// Durations as people write them ("30s", "90m", "2h", "30d", "1w"): leases and their check interval.
import { BadInput } from "../api/errors.js";

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
};

const HINT = "write it as a whole number with a unit (s, m, h, d or w), like 2h, 90m or 30d";

/** Milliseconds from "2h"; a bare number is refused: "2" could mean seconds, hours or days. */
export function parseDuration(text: string, what = "duration"): number {
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
  const m = /^(\d{1,9})([smhdw])$/.exec(text.trim());
  if (!m) {
    const bare = /^\d+$/.test(text.trim()) ? ` (a number needs a unit)` : "";
    throw new BadInput(`${what} ${shown} is not a duration${bare}`, HINT);
  }
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  if (ms === 0) throw new BadInput(`${what} ${shown} is zero`, "give a positive duration, like 2h");
  return ms;
}

const PARTS = [
  ["d", 86_400],
  ["h", 3600],
  ["m", 60],
  ["s", 1],
] as const;

/** The largest unit and the next one, rounded down to whole seconds: "2h", "1h30m", "29d23h", "45s". */
export function formatDuration(ms: number): string {
  // Only tests look this closely: farmd's own intervals are whole seconds.
  if (ms > 0 && ms < 1000) return `${Math.round(ms)}ms`;
  const total = Math.max(0, Math.floor(ms / 1000));
  const first = PARTS.findIndex(([, size]) => total >= size);
  if (first < 0) return "0s";
  const [unit, size] = PARTS[first]!;
  const next = PARTS[first + 1];
  const rest = next ? Math.floor((total % size) / next[1]) : 0;
  return `${Math.floor(total / size)}${unit}${rest ? `${rest}${next![0]}` : ""}`;
}
