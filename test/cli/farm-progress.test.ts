// The farm's progress: members' copies on one redrawn line on a TTY, a line per 25 % otherwise.
import { describe, expect, it } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import { FarmProgressView } from "../../src/cli/farm-progress.js";

const GiB = 2 ** 30;
const copy = (member: string, bytes: number) =>
  ({
    type: "member-event",
    member,
    opId: `op-${member}`,
    event: { type: "copy-progress", bytes, total: 4 * GiB, rateBytesPerSec: 1e8, etaMs: null },
  }) as unknown as OpEvent;
const ended = (member: string) =>
  ({
    type: "member",
    member,
    name: `rel-${member}`,
    action: "create",
    status: "done",
    opId: null,
  }) as unknown as OpEvent;

function render(isTTY: boolean, events: OpEvent[]): string {
  let out = "";
  const view = new FarmProgressView({ write: (s) => (out += s), isTTY });
  for (const e of events) view.handle(e);
  return out;
}

describe("farm progress", () => {
  const events = [
    copy("a", GiB),
    copy("b", GiB),
    copy("a", 3 * GiB),
    ended("b"),
    copy("a", 4 * GiB),
  ];

  it("redraws the copies of all members on one line on a terminal", () => {
    const out = render(true, events);
    expect(out).toContain("\r\x1b[K     copying: a 25%, b 25%");
    expect(out).toContain("\r\x1b[K     copying: a 75%, b 25%\n[b] done\n");
    expect(out.endsWith("\r\x1b[K     copying: a 100%")).toBe(true);
  });

  it("prints a line per member per quarter in a log", () => {
    expect(render(false, events).split("\n")).toEqual([
      "[a] copied 25% of 4.0 GiB",
      "[b] copied 25% of 4.0 GiB",
      "[a] copied 75% of 4.0 GiB",
      "[b] done",
      "[a] copied 100% of 4.0 GiB",
      "",
    ]);
  });

  it("says what an update in place did when its member ends", () => {
    const note = "re-rendered: proxy";
    const updated = { ...(ended("a") as object), action: "update", note } as unknown as OpEvent;
    expect(render(false, [updated])).toBe(`[a] done: ${note}\n`);
  });

  it("shows the farm operation's own events as a clone's", () => {
    expect(render(false, [{ type: "warning", message: "VG nearly full" }])).toBe(
      "     warning: VG nearly full\n",
    );
  });
});
