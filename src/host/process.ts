// Processes an operation left behind (a dd still writing after farmd was killed): found by the PID
// the journal recorded, and only killed if /proc shows it is still that very command.
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** The argv of a live process, or null if it is gone or a zombie. */
export function processArgv(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/^\d+ \(.*\) Z /.test(stat)) return null;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return null;
  }
}

/** Kills `pid` if its argv still contains every one of `mustContain`; waits (bounded) until it is gone. */
export async function killLeftover(
  pid: number,
  mustContain: string[],
  timeoutMs = 10_000,
): Promise<boolean> {
  const argv = processArgv(pid);
  if (!argv || !mustContain.every((w) => argv.includes(w))) return false;
  process.kill(pid, "SIGKILL");
  for (const deadline = Date.now() + timeoutMs; processArgv(pid) && Date.now() < deadline;)
    await sleep(50);
  return true;
}
