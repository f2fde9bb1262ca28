// Sizes as admins write them ("4G", "4096M", "1024k") → bytes; binary units, like LVM and Ganeti.
import { BadInput } from "../api/errors.js";

const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};

export function parseSize(text: string, what = "size"): number {
  const m = /^(\d+)([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (
    !m ||
    unit === undefined ||
    (m[2] === "" && !/b$/i.test(text.trim()) && text.trim() !== "0")
  ) {
    throw new BadInput(
      `${what} '${text}' is not a size`,
      "write it as a number with a unit, like 4G, 4096M or 1024K",
    );
  }
  const bytes = Number(m[1]) * unit;
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new BadInput(`${what} '${text}' is out of range`, "use a positive size like 4G");
  return bytes;
}

/** A rate limit per second as admins write it ("100M"); "0" or "" means none (0). */
export function parseRate(text: string, what = "rate"): number {
  const t = text.trim();
  if (t === "" || t === "0") return 0;
  return parseSize(t, what);
}

/** The largest exact unit, for display and for tools that take "4G"/"1024M". */
export function formatSize(bytes: number): string {
  for (const [suffix, unit] of [
    ["T", 2 ** 40],
    ["G", 2 ** 30],
    ["M", 2 ** 20],
    ["K", 2 ** 10],
  ] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return `${bytes}B`;
}

export const MiB = 2 ** 20;

/** Below [balloon] min a guest starts killing its processes: refused for a clone and for `balloon`. */
export function checkBalloonFloor(bytes: number, min: string, what: string): void {
  if (bytes < parseSize(min, "[balloon] min"))
    throw new BadInput(
      `${what} ${formatSize(bytes)} is below the smallest balloon allowed ([balloon] min ${min})`,
      `give at least ${min}`,
    );
}
