// Human formatting of bytes and durations for the CLI.
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
