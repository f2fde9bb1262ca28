import { describe, expect, it } from "vitest";
import { ProgressView } from "../../src/cli/progress.js";

function render(isTTY: boolean, totalSteps = 21) {
  let out = "";
  const view = new ProgressView({ write: (s) => (out += s), isTTY });
  const total = 30 * 2 ** 30;
  view.handle({
    type: "step-start",
    seq: 4,
    step: "copy",
    title: "copy the snapshot onto the new disk",
  });
  for (let i = 1; i <= totalSteps; i++) {
    view.handle({
      type: "copy-progress",
      bytes: Math.round((total * i) / totalSteps),
      total,
      rateBytesPerSec: 150e6,
      etaMs: 1000 * (totalSteps - i),
    });
  }
  view.handle({ type: "step-done", seq: 4, step: "copy", ms: 214_000 });
  return out;
}

describe("progress display", () => {
  it("redraws one bar on a terminal", () => {
    const out = render(true);
    expect(out).toContain(
      "\r\x1b[K     [##############################] 30.0 GiB / 30.0 GiB (100%) 143 MiB/s ETA 0 ms",
    );
    expect(out.split("\n")).toEqual([
      "[ 5] copy the snapshot onto the new disk ...",
      expect.stringMatching(/^\r\x1b\[K/),
      "     done (3 min 34 s)",
      "",
    ]);
    expect(out).toContain("     done (3 min 34 s)");
  });

  it("prints plain lines, one per 10 %, in a log or pipe", () => {
    const lines = render(false)
      .split("\n")
      .filter((l) => l.includes("copied"));
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe("     copied 4.3 GiB / 30.0 GiB (14%) 143 MiB/s ETA 18.0 s");
    expect(lines.at(-1)).toContain("(100%)");
    expect(render(false)).not.toContain("\r");
  });
});
