// When each step of an operation ran, from its journaled start and end: offsets show what overlapped.

/** A step's start after the operation's first step started, and how long it took (ms). */
export interface StepTime {
  name: string;
  startMs: number;
  /** Null while the step runs (or when farmd stopped before it ended). */
  ms: number | null;
}

/** The steps' times in journal (declaration) order; [] for an operation with no steps. */
export function stepTimes(
  steps: readonly { name: string; startedAt: string; finishedAt: string | null }[],
): StepTime[] {
  const t0 = Math.min(...steps.map((s) => Date.parse(s.startedAt)));
  return steps.map((s) => {
    const start = Date.parse(s.startedAt);
    return {
      name: s.name,
      startMs: start - t0,
      ms: s.finishedAt === null ? null : Date.parse(s.finishedAt) - start,
    };
  });
}

/** 1234 → "1.2s". */
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** One line a step: name, start offset, duration, and a bar on the operation's time line. */
export function formatStepTimes(times: readonly StepTime[], width = 30): string {
  if (!times.length) return "";
  const end = Math.max(1, ...times.map((t) => t.startMs + (t.ms ?? 0)));
  const cell = (ms: number) => Math.round((ms / end) * width);
  const lines = times.map((t) => {
    const from = Math.min(cell(t.startMs), width - 1);
    const bar = " ".repeat(from) + "#".repeat(Math.max(1, cell(t.startMs + (t.ms ?? 0)) - from));
    const took = t.ms === null ? "(not ended)" : seconds(t.ms);
    return `  ${t.name.padEnd(14)} +${seconds(t.startMs).padStart(7)} ${took.padStart(8)}  |${bar.padEnd(width)}|`;
  });
  return `steps (start, duration; ${seconds(end)} in all):\n${lines.join("\n")}\n`;
}
