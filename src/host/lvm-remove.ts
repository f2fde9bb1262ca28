// lvremove of a busy LV (LVM 2.03: "Logical volume VG/LV in use.", exit 5): farmd's own leftover
// dd may be stopped first, then the removal is retried as the holders go, bounded, and the
// holders are named if the LV never frees.
import { OperationFailed } from "../api/errors.js";
import { holdersOf, killLeftover, waitGone, type Holder } from "./process.js";
import type { RunResult, Runner } from "./runner.js";

/** How long a busy LV is waited for in all, and how many lvremove attempts at most. */
export const BUSY_REMOVE_TIMEOUT_MS = 30_000;
export const BUSY_REMOVE_ATTEMPTS = 10;

export const IN_USE = /Logical volume \S+ in use\./;

/** What removal needs from the host's processes (a unit test passes its own). */
export interface BusyPolicy {
  holders(device: string): Holder[];
  /** Stops `h` if it is a leftover farmd may stop (a dd reading or writing `device`). */
  stopLeftover(h: Holder, device: string): Promise<boolean>;
  waitGone(pids: number[], timeoutMs: number): Promise<boolean>;
  /** A pause when LVM says busy but no holder is seen (closed meanwhile, or held by the kernel). */
  pause(ms: number): Promise<void>;
  timeoutMs: number;
  attempts: number;
}

export const hostBusyPolicy: BusyPolicy = {
  holders: holdersOf,
  async stopLeftover(h, device) {
    const arg = h.argv.find((a) => a === `of=${device}` || a === `if=${device}`);
    if (!arg || h.argv[0]?.split("/").at(-1) !== "dd") return false;
    return killLeftover(h.pid, [h.argv[0], arg]);
  },
  waitGone,
  pause: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  timeoutMs: BUSY_REMOVE_TIMEOUT_MS,
  attempts: BUSY_REMOVE_ATTEMPTS,
};

/** Stops the leftovers holding `device` and waits for them, before a removal. */
export async function stopLeftovers(device: string, policy: BusyPolicy): Promise<void> {
  const stopped: number[] = [];
  for (const h of policy.holders(device))
    if (await policy.stopLeftover(h, device)) stopped.push(h.pid);
  if (stopped.length) await policy.waitGone(stopped, policy.timeoutMs);
}

/**
 * Runs `argv` (an lvremove) until LVM no longer says the LV is in use, waiting for its holders
 * to exit between attempts (with `stop`, stopping farmd's leftover dd); any other result is returned.
 */
export async function removeWhenFree(
  runner: Runner,
  argv: string[],
  device: string,
  label: string,
  policy: BusyPolicy,
  stop: boolean,
): Promise<RunResult> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const r = await runner.run(argv, { allowFailure: true });
    if (r.exitCode === 0 || !IN_USE.test(r.stderr)) return r;
    const holders = policy.holders(device);
    const left = started + policy.timeoutMs - Date.now();
    if (attempt >= policy.attempts || left <= 0)
      throw stillBusy(label, holders, attempt, Date.now() - started, r);
    if (stop) for (const h of holders) await policy.stopLeftover(h, device);
    if (holders.length)
      await policy.waitGone(
        holders.map((h) => h.pid),
        left,
      );
    else await policy.pause(Math.min(left, 200 * attempt));
  }
}

function stillBusy(
  label: string,
  holders: Holder[],
  attempts: number,
  ms: number,
  r: RunResult,
): OperationFailed {
  const who = holders.length
    ? `held by ${holders.map((h) => `PID ${h.pid} (${brief(h.argv)})`).join(", ")}`
    : "no process holds it open (a mount, or another device on top of it?)";
  return new OperationFailed(
    `LV ${label} is still in use after ${attempts} lvremove attempts over ${Math.round(ms / 1000)} s, ${who}; nothing removed`,
    holders.length
      ? `stop ${holders.length > 1 ? "those processes" : "that process"} (kill ${holders.map((h) => h.pid).join(" ")}), then run the undo again`
      : `check \`dmsetup info -c\` and \`findmnt\` for ${label}, then run the undo again`,
    {
      argv: [...r.argv],
      exitCode: r.exitCode,
      stderr: r.stderr,
      holders: holders.map((h) => ({ pid: h.pid, argv: h.argv })),
    },
  );
}

/** A holder's command line, short enough for one message. */
function brief(argv: string[]): string {
  const s = argv.join(" ");
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
