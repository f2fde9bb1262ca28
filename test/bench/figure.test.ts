// How a benchmark figure prints: the line `npm run bench` ends with, one per figure.
import { describe, expect, it } from "vitest";
import { figureText } from "./figure.js";

describe("a figure's line", () => {
  it("gives the value against its target, or says it is only reported", () => {
    expect(figureText({ value: 0.623, target: 0.7, detail: "" })).toBe("0.62 (target <= 0.70)");
    expect(figureText({ value: 1.03, target: 0.95, goal: "min", detail: "" })).toBe(
      "1.03 (target >= 0.95)",
    );
    expect(figureText({ value: 52.4, target: 200, unit: "ms", detail: "" })).toBe(
      "52 ms (target <= 200 ms)",
    );
    expect(figureText({ value: 3.128, target: 0, goal: "report", detail: "" })).toBe(
      "3.13 (reported, no target)",
    );
  });
});
