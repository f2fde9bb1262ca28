import type { ErrorJson } from "./errors.js";

// Events an operation emits while it runs; the CLI renders them, farmd will stream them as NDJSON.
export type OpEvent =
  | { type: "step-start"; seq: number; step: string; title: string }
  | { type: "step-done"; seq: number; step: string; ms: number }
  | {
      type: "step-failed";
      seq: number;
      step: string;
      error: string;
      command?: string[];
      stderr?: string;
    }
  | { type: "undo-start"; seq: number; step: string }
  | { type: "undo-done"; seq: number; step: string }
  | { type: "undo-failed"; seq: number; step: string; error: string }
  | {
      type: "copy-progress";
      bytes: number;
      total: number;
      rateBytesPerSec: number;
      etaMs: number | null;
    }
  | { type: "command"; argv: string[] }
  | { type: "file-diff"; path: string; diff: string }
  | { type: "info"; message: string }
  | { type: "warning"; message: string }
  /** The last event of an operation: how it ended and what it made. */
  | { type: "end"; opId: string; state: string; result?: unknown; error?: ErrorJson };

export type EventSink = (event: OpEvent) => void;
