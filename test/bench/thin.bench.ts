// Issue 12 item 5: a clone of a thin source costs the same whatever the disk's size. Thin pools
// cannot run on this kernel (no device-mapper): the clone runs on the simulated host (LVM answering
// as lvm2 2.03.16 does for a thin VG, test/recordings/INDEX-lvm-thin.md), so the figures count the
// host commands and the bytes dd would copy, not seconds on a real pool.
import { afterEach, describe, it } from "vitest";
import { harness, type Harness } from "../ops/clone-harness.js";
import { makeThin } from "../fakes/thin-host.js";
import { recordFigure } from "./figure.js";

const GiB = 2 ** 30;
let h: Harness | undefined;
afterEach(() => h?.cleanup());

/** The commands that change the host in a whole clone of a thin source of `sizeBytes`. */
async function thinClone(sizeBytes: number): Promise<{ commands: string[]; copied: number }> {
  h?.cleanup();
  h = harness();
  makeThin(h.runner, { sizeBytes });
  const r = await h.clone({});
  const copied = h.events.reduce((n, e) => (e.type === "copy-progress" ? e.bytes : n), 0);
  const commands = h.runner.mutations().map(
    (a) =>
      a
        .join(" ")
        .replaceAll(r.opId, "<op>")
        .replace(/[0-9a-f-]{36}\.disk0/g, "<lv>")
        .replace(/52:54(:[0-9a-f]{2}){4}/g, "<mac>"), // random per clone
  );
  return { commands, copied };
}

describe("thin pools", () => {
  it("clone of a thin source: host commands for 1 TiB / for 1 GiB", async (ctx) => {
    const small = await thinClone(GiB);
    const big = await thinClone(1024 * GiB);
    // As sets: the host's entries are written beside the disk (the clone's graph), in any order.
    const sorted = (c: string[]) => JSON.stringify([...c].sort());
    const same = sorted(small.commands) === sorted(big.commands);
    const lvm = big.commands.filter((c) => c.startsWith("lv") || c.includes(" dd "));
    recordFigure(ctx, {
      // Other commands for a bigger disk (a size in an argv, a dd) are not O(1): they count double.
      value: (big.commands.length / small.commands.length) * (same ? 1 : 2),
      target: 1,
      detail: `${small.commands.length} and ${big.commands.length} commands, ${same ? "the same" : "NOT the same"} ones; LVM: ${lvm.join("; ")}`,
    });
    recordFigure(ctx, {
      name: "clone of a 1 TiB thin source: bytes copied",
      value: big.copied,
      target: 0,
      unit: "B",
      detail: `no dd: ${!big.commands.some((c) => c.includes(" dd "))} (simulated host; no device-mapper here)`,
    });
  });
});
