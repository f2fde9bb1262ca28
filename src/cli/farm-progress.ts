// A farm operation's events: one line as each member starts and ends, its failures and warnings,
// and the members' copies on one line (redrawn on a TTY, every 25 % per member otherwise).
import type { OpEvent } from "../api/events.js";
import { planView, type EventView } from "./follow.js";
import { formatBytes } from "./format.js";
import { ProgressView, type Output } from "./progress.js";

/** A member's child operation started or ended (MemberOutcome's status). */
type MemberEvent = Extract<OpEvent, { type: "member" }>;

const STEP = 25;

export class FarmProgressView implements EventView {
  private readonly own: ProgressView;
  /** Copies under way: member → percent. */
  private readonly copies = new Map<string, number>();
  private lineShown = false;

  constructor(private readonly out: Output) {
    this.own = new ProgressView({ write: (t) => this.write(t), isTTY: out.isTTY });
  }

  handle(e: OpEvent): void {
    if (e.type === "member") return this.member(e);
    if (e.type === "member-event") return this.child(e.member, e.event);
    this.own.handle(e);
  }

  private member(e: MemberEvent): void {
    if (e.status === "started") {
      const op = e.opId ? ` (operation ${e.opId})` : "";
      return this.write(`[${e.member}] ${e.action} ${e.name} ...${op}\n`);
    }
    this.copies.delete(e.member);
    const why = e.error ?? e.note;
    this.write(`[${e.member}] ${e.status}${why ? `: ${why}` : ""}\n`);
  }

  private child(member: string, e: OpEvent): void {
    switch (e.type) {
      case "copy-progress":
        return this.copy(member, e);
      case "step-failed":
        return this.write(`[${member}] FAILED ${e.step}: ${e.error}\n`);
      case "undo-failed":
        return this.write(`[${member}] UNDO FAILED ${e.step}: ${e.error}\n`);
      case "warning":
        return this.write(`[${member}] warning: ${e.message}\n`);
    }
  }

  private copy(member: string, e: Extract<OpEvent, { type: "copy-progress" }>): void {
    const pct = e.total > 0 ? Math.min(100, Math.floor((e.bytes / e.total) * 100)) : 0;
    const before = this.copies.get(member) ?? 0;
    this.copies.set(member, pct);
    if (this.out.isTTY) {
      const all = [...this.copies].map(([m, p]) => `${m} ${p}%`).join(", ");
      this.out.write(`\r\x1b[K     copying: ${all}`);
      this.lineShown = true;
    } else if (Math.floor(pct / STEP) > Math.floor(before / STEP)) {
      this.write(`[${member}] copied ${pct}% of ${formatBytes(e.total)}\n`);
    }
    if (pct >= 100) this.copies.delete(member);
  }

  /** A line after the redrawn copy line starts on a line of its own. */
  private write(text: string): void {
    if (this.lineShown) {
      this.out.write("\n");
      this.lineShown = false;
    }
    this.out.write(text);
  }
}

/**
 * `farm up --dry-run`: each member's plan (its steps, commands and diffs) on stdout under a
 * heading naming the member and its action, as `clone --dry-run` shows a clone's.
 */
export function farmPlanView(
  base: EventView = planView(),
  write = (s: string) => void process.stdout.write(s),
): EventView {
  let current: string | null = null;
  const heading = (member: string, what = "") => {
    if (member === current) return;
    current = member;
    write(`== ${member}${what} ==\n`);
  };
  return {
    handle(f) {
      if (f.type === "member") {
        if (f.status === "started") heading(f.member, `: ${f.action} ${f.name}`);
        return;
      }
      if (f.type !== "member-event") return base.handle(f);
      heading(f.member);
      base.handle(f.event);
    },
  };
}
