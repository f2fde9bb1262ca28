// A saga step run by hand: its journal is a plain object, and farmd can be "killed" at its acted point.
import type { BusyPolicy } from "../../src/host/lvm-remove.js";
import type { StepHandle } from "../../src/ops/saga.js";

/** What a step throws where farmd would have been killed. */
export class Crash extends Error {}

/** A step handle whose journal is `data`; `crash`: farmd is killed at the step's "acted" point. */
export function handle(data: Record<string, unknown>, crash = false): StepHandle {
  return {
    data,
    record: (more) => void Object.assign(data, more),
    acted: () => {
      if (crash) throw new Crash("SIGKILL at acted");
    },
  };
}

/** No process ever holds an LV: lvremove is never retried. */
export const noHolders: BusyPolicy = {
  holders: () => [],
  stopLeftover: async () => false,
  waitGone: async () => true,
  pause: async () => {},
  timeoutMs: 30_000,
  attempts: 3,
};
