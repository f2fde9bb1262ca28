// Processes an operation left behind (a dd still writing after farmd was killed): found by the PID
// the journal recorded, and only killed if /proc shows it is still that very command.
import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { OperationFailed } from "../api/errors.js";

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

/**
 * Kills `pid` if its argv still contains every one of `mustContain`, and waits (bounded) until it
 * is gone: true if it was that command and has exited, false if it was not (nothing done).
 */
export async function killLeftover(
  pid: number,
  mustContain: string[],
  timeoutMs = 10_000,
): Promise<boolean> {
  const argv = processArgv(pid);
  if (!argv || !mustContain.every((w) => argv.includes(w))) return false;
  process.kill(pid, "SIGKILL");
  if (!(await waitGone([pid], timeoutMs)))
    throw new OperationFailed(
      `PID ${pid} (${argv.join(" ")}) did not exit within ${timeoutMs / 1000} s of SIGKILL`,
      `it is stuck in the kernel (state D in \`ps -o stat ${pid}\`); retry once it has exited`,
      { pid, argv },
    );
  return true;
}

/** A process that holds a device open. */
export interface Holder {
  pid: number;
  argv: string[];
}

/** The live processes with `device` open, by the path or the node it links to (/proc/<pid>/fd). */
export function holdersOf(device: string): Holder[] {
  const targets = new Set([device]);
  try {
    targets.add(realpathSync(device));
  } catch {
    // no such device (yet, or any more): its path alone
  }
  const found: Holder[] = [];
  for (const pid of readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .map(Number)) {
    if (pid === process.pid || !fdsOf(pid).some((t) => targets.has(t))) continue;
    const argv = processArgv(pid);
    if (argv) found.push({ pid, argv });
  }
  return found;
}

function fdsOf(pid: number): string[] {
  try {
    return readdirSync(`/proc/${pid}/fd`).map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));
  } catch {
    return []; // gone meanwhile, or a fd closed between the listing and the readlink
  }
}

/** Waits (bounded) until none of `pids` is alive; true if they all went. */
export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some((p) => processArgv(p))) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** The PIDs `pid` has forked and not yet lost (every thread's /proc children list). */
export function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8")
        .split(" ")
        .filter((c) => /^\d+$/.test(c))
        .map(Number),
    );
  } catch {
    return []; // gone meanwhile
  }
}
