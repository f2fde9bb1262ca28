// The clone's first boot: a oneshot unit regenerates the SSH host keys and prints their
// fingerprints on the console in cloud-init's format, and the new machine-id; this reads them back.
import type { HostKeyFingerprint } from "../../api/clone.js";

export const FIRSTBOOT_SCRIPT = "/usr/local/sbin/farm-firstboot";
export const FIRSTBOOT_UNIT = "/etc/systemd/system/farm-firstboot.service";
export const FIRSTBOOT_WANTS = "/etc/systemd/system/multi-user.target.wants";
export const BEGIN = "-----BEGIN SSH HOST KEY FINGERPRINTS-----";
export const END = "-----END SSH HOST KEY FINGERPRINTS-----";

export type Fingerprint = HostKeyFingerprint;

export interface FirstBoot {
  fingerprints: Fingerprint[];
  machineId: string | null;
}

const FINGERPRINT = /^(\d+) ((?:SHA256|MD5):\S+) (.*) \(([A-Z0-9-]+)\)$/;
const MACHINE_ID = /farm-firstboot: machine-id ([0-9a-f]{32})\b/g;

export function parseFingerprint(line: string): Fingerprint | null {
  const m = FINGERPRINT.exec(line.trim());
  return m ? { bits: Number(m[1]), fingerprint: m[2]!, comment: m[3]!, type: m[4]! } : null;
}

/**
 * What the first boot printed in `console` (the last complete block wins: a guest may reboot);
 * null when it has not printed a complete block yet. Kernel lines interleaved are skipped.
 */
export function parseFirstBoot(console: string): FirstBoot | null {
  const lines = console.split(/\r?\n/).map((l) => l.trim());
  const begin = lines.lastIndexOf(BEGIN);
  const end = lines.indexOf(END, begin);
  if (begin < 0 || end < 0) return null;
  const fingerprints = lines
    .slice(begin + 1, end)
    .map(parseFingerprint)
    .filter((f): f is Fingerprint => f !== null);
  const ids = [...lines.slice(end).join("\n").matchAll(MACHINE_ID)];
  return { fingerprints, machineId: ids.at(-1)?.[1] ?? null };
}

/** The identity step's view: complete once the machine-id line has followed the block. */
export function firstBootIdentity(
  console: string,
): { machineId: string; keys: Fingerprint[] } | null {
  const found = parseFirstBoot(console);
  return found?.machineId ? { machineId: found.machineId, keys: found.fingerprints } : null;
}
