// Test-only crash hook (FARMD_TEST_CRASH_AT=<kind>:<step>[:begin|:acted]): SIGKILLs farmd at one
// point of one step, so the crash tests can prove recovery at every step without racing a timer.
import { BadInput } from "../api/errors.js";
import type { CrashPoint, SagaRun } from "../ops/saga.js";

/** Called by the saga at each point of each step; kills farmd at the armed one. */
export type CrashCheck = NonNullable<SagaRun["crashAt"]>;

export interface CrashHook {
  /** The check for one operation: only the first operation of the armed kind gets a live one. */
  forOperation(kind: string, opId: string): CrashCheck | undefined;
}

const SPEC = /^(clone|destroy|import):([a-z-]+)(?::(begin|acted))?$/;

export function parseCrashAt(value: string): { kind: string; step: string; point: CrashPoint } {
  const m = SPEC.exec(value);
  if (!m)
    throw new BadInput(
      `FARMD_TEST_CRASH_AT='${value}' is not <kind>:<step>[:begin|:acted]`,
      "e.g. FARMD_TEST_CRASH_AT=clone:create-lv:acted, or unset it",
    );
  return { kind: m[1]!, step: m[2]!, point: (m[3] as CrashPoint | undefined) ?? "begin" };
}

export function crashHookFromEnv(
  env: NodeJS.ProcessEnv,
  log: (message: string) => void,
  kill: () => void = () => process.kill(process.pid, "SIGKILL"),
): CrashHook | undefined {
  const value = env.FARMD_TEST_CRASH_AT;
  if (!value) return undefined;
  const at = parseCrashAt(value);
  log(`crash hook armed: ${value}`);
  let armedOp: string | undefined;
  return {
    forOperation(kind, opId) {
      if (kind !== at.kind || (armedOp !== undefined && armedOp !== opId)) return undefined;
      armedOp = opId;
      return (step, point) => {
        if (step !== at.step || point !== at.point) return;
        log(`crash hook firing: ${value}`);
        kill();
      };
    },
  };
}
