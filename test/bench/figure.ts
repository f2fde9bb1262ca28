// A benchmark figure: a ratio measured in the run, its target, and how it was measured. The test
// that measures it sets it on its task's meta; the JSON reporter carries it to summary.mjs.
import type { TestContext } from "vitest";

export interface Figure {
  value: number;
  /** The figure passes at or below this. */
  target: number;
  /** The measurements it is the ratio of, for the log. */
  detail: string;
}

declare module "vitest" {
  interface TaskMeta {
    figure?: Figure;
  }
}

/** Records the figure; a figure short of its target fails only the figure, not the run. */
export function recordFigure(ctx: TestContext, figure: Figure): void {
  ctx.task.meta.figure = figure;
  console.log(
    `${ctx.task.name}: ${figure.value.toFixed(2)} (target <= ${figure.target.toFixed(2)}; ${figure.detail})`,
  );
}
