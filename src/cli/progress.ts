// Renders an operation's events: a redrawn progress bar on a TTY, plain lines otherwise.
import type { OpEvent } from "../api/events.js";
import { formatBytes, formatDuration } from "./format.js";

export interface Output {
  write(text: string): void;
  isTTY: boolean;
}

export class ProgressView {
  private barShown = false;
  private lastDecile = 0;

  constructor(private readonly out: Output) {}

  handle(e: OpEvent): void {
    switch (e.type) {
      case "copy-progress":
        return this.progress(e);
      case "balloon-progress":
        return this.balloon(e);
      case "step-start":
        return this.line(`[${String(e.seq + 1).padStart(2)}] ${e.title} ...`);
      case "step-done":
        return this.line(`     done (${formatDuration(e.ms)})`);
      case "step-failed":
        return this.line(
          `     FAILED: ${e.error}` + (e.stderr ? `\n${indent(e.stderr.trimEnd())}` : ""),
        );
      case "undo-start":
        return this.line(`     undo ${e.step} ...`);
      case "undo-done":
        return this.line(`     undone ${e.step}`);
      case "undo-failed":
        return this.line(`     UNDO FAILED ${e.step}: ${e.error}`);
      case "copy-throttle":
        return this.line(
          `     copy limited to ${formatBytes(e.limitBytesPerSec)}/s by ${e.mechanism}: ${e.detail}`,
        );
      case "command":
        return this.line(`     $ ${e.argv.map(quote).join(" ")}`);
      case "file-diff":
        return this.line(indent(e.diff.trimEnd()));
      case "warning":
        return this.line(`     warning: ${e.message}`);
      case "info":
        return this.line(`     ${e.message}`);
    }
  }

  private progress(e: Extract<OpEvent, { type: "copy-progress" }>): void {
    const pct = e.total > 0 ? Math.min(100, Math.floor((e.bytes / e.total) * 100)) : 0;
    const text =
      `${formatBytes(e.bytes)} / ${formatBytes(e.total)} (${pct}%) ${formatBytes(e.rateBytesPerSec)}/s` +
      (e.etaMs !== null ? ` ETA ${formatDuration(e.etaMs)}` : "");
    if (this.out.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      this.out.write(`\r\x1b[K     [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${text}`);
      this.barShown = true;
    } else if (Math.floor(pct / 10) > this.lastDecile) {
      // Plain output (logs, pipes): one line per 10 % so a 30 GB copy stays readable.
      this.lastDecile = Math.floor(pct / 10);
      this.out.write(`     copied ${text}\n`);
    }
  }

  /** The balloon wait: redrawn on a TTY; plain output gets a line when the guest starts moving, then per heartbeat. */
  private balloon(e: Extract<OpEvent, { type: "balloon-progress" }>): void {
    const now = e.actualBytes === null ? "no reading" : formatBytes(e.actualBytes);
    const text = e.moved
      ? `ballooning: ${now} now, target ${formatBytes(e.targetBytes)} (${formatDuration(e.elapsedMs)})`
      : `waiting for the guest's balloon driver: ${now}, target ${formatBytes(e.targetBytes)} (${formatDuration(e.elapsedMs)})`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K     ${text}`);
      this.barShown = true;
    } else this.out.write(`     ${text}\n`);
  }

  private line(text: string): void {
    if (this.barShown) {
      this.out.write("\n");
      this.barShown = false;
    }
    this.out.write(text + "\n");
  }
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `       ${l}`)
    .join("\n");
}

/** Shows an argv so it can be pasted into a shell. */
export function quote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
