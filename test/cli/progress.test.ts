import { describe, expect, it } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import { ProgressView } from "../../src/cli/progress.js";
import { balloonProgress } from "../../src/ops/clone/balloon-progress.js";

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

describe("the balloon wait", () => {
  const MiB = 2 ** 20;
  /** The readings of a guest that boots for 12 s (its driver silent), then gives memory back. */
  const readings = [
    ...Array.from({ length: 49 }, (_, i) => ({ actual: 512 * MiB, at: i * 250 })),
    { actual: 400 * MiB, at: 12_250 },
    { actual: 256 * MiB, at: 12_500 },
  ];
  const events = () => {
    const seen: OpEvent[] = [];
    const onReading = balloonProgress((e) => seen.push(e));
    for (const r of readings)
      onReading({
        targetBytes: 256 * MiB,
        startBytes: 512 * MiB,
        actualBytes: r.actual,
        elapsedMs: r.at,
      });
    return seen;
  };

  it("is an event per change and one per 5 s while nothing moves, not one per reading", () => {
    expect(
      events().map(
        (e) => e.type === "balloon-progress" && [e.actualBytes! / MiB, e.moved, e.elapsedMs],
      ),
    ).toEqual([
      [512, false, 0],
      [512, false, 5000],
      [512, false, 10000],
      [400, true, 12250],
      [256, true, 12500],
    ]);
  });

  it("says what is awaited, then the size reached so far", () => {
    let out = "";
    const view = new ProgressView({ write: (s) => (out += s), isTTY: false });
    for (const e of events()) view.handle(e);
    expect(out.split("\n")).toEqual([
      "     waiting for the guest's balloon driver: 512 MiB, target 256 MiB (0 ms)",
      "     waiting for the guest's balloon driver: 512 MiB, target 256 MiB (5.0 s)",
      "     waiting for the guest's balloon driver: 512 MiB, target 256 MiB (10.0 s)",
      "     ballooning: 400 MiB now, target 256 MiB (12.3 s)",
      "     ballooning: 256 MiB now, target 256 MiB (12.5 s)",
      "",
    ]);
  });
});
