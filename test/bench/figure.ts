// A benchmark figure: a measurement of the run (most often a ratio against a baseline measured in
// the same run), its target, and how it was measured. The test that measures it adds it to its
// task's meta; the JSON reporter carries it to summary.mjs, which prints it and judges it.
import type { TestContext } from "vitest";

export interface Figure {
  /** What is measured, e.g. "copy / dd oflag=direct"; defaults to the test's name. */
  name?: string;
  value: number;
  /** Ignored for a reported figure. */
  target: number;
  /**
   * "max": passes at or below target (a time ratio, the default); "min": at or above (a speed
   * ratio); "report": printed, neither passed nor failed (a figure the issue asks to report only).
   */
  goal?: "max" | "min" | "report";
  /** How the value prints: "" (a ratio, 2 decimals, the default), "ms", "MB/s", "x"... */
  unit?: string;
  /** The measurements it is made of, for the log. */
  detail: string;
}

declare module "vitest" {
  interface TaskMeta {
    figures?: Figure[];
  }
}

/** "0.41 (target <= 0.60)", "143 ms (target <= 200 ms)": the line summary.mjs prints too. */
export function figureText(f: Figure): string {
  const unit = f.unit ? ` ${f.unit}` : "";
  if (f.goal === "report") return `${f.value.toFixed(f.unit ? 0 : 2)}${unit} (reported, no target)`;
  const digits = f.unit ? (Math.abs(f.target) >= 10 ? 0 : 1) : 2;
  const op = f.goal === "min" ? ">=" : "<=";
  return `${f.value.toFixed(digits)}${unit} (target ${op} ${f.target.toFixed(digits)}${unit})`;
}

/** Records a figure; one short of its target fails only the figure, not the run. */
export function recordFigure(ctx: TestContext, figure: Figure): void {
  const f = { ...figure, name: figure.name ?? ctx.task.name };
  ctx.task.meta.figures = [...(ctx.task.meta.figures ?? []), f];
  console.log(`${f.name}: ${figureText(f)}; ${f.detail}`);
}
