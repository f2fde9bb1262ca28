import type { ErrorJson } from "./errors.js";
import type { MemberOutcome } from "./farm.js";

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
  /**
   * The balloon wait, alive: what the guest holds now (null: no reading) against the target, and
   * whether it has moved since the first reading (before that, its balloon driver is awaited).
   */
  | {
      type: "balloon-progress";
      targetBytes: number;
      actualBytes: number | null;
      moved: boolean;
      elapsedMs: number;
    }
  /** Sent once as a throttled copy starts: the limit and the mechanism that enforces it. */
  | ({ type: "copy-throttle" } & CopyThrottle)
  | { type: "command"; argv: string[] }
  | { type: "file-diff"; path: string; diff: string }
  | { type: "info"; message: string }
  | { type: "warning"; message: string }
  /**
   * A farm operation's member changed state: "started" when its child operation (clone, destroy,
   * update) began, then how it ended (MemberOutcome's status). `opId` is the child's, once it has one.
   */
  | {
      type: "member";
      member: string;
      name: string;
      action: MemberOutcome["action"];
      status: "started" | MemberOutcome["status"];
      opId: string | null;
      error?: string;
      note?: string;
    }
  /** An event of a member's child operation, forwarded by the farm operation (its "end" included). */
  | { type: "member-event"; member: string; opId: string; event: OpEvent }
  /** The last event of an operation: how it ended and what it made. */
  | { type: "end"; opId: string; state: string; result?: unknown; error?: ErrorJson };

/** How a copy's write rate is limited ([copy] bwlimit, clone --bwlimit). */
export interface CopyThrottle {
  limitBytesPerSec: number;
  /** The kernel's block I/O controller (cgroup v2 io.max, v1 blkio), a systemd scope, or dd paced by farmd. */
  mechanism: "cgroup-v2" | "cgroup-v1" | "systemd" | "pacing";
  /** Where it is enforced: the cgroup or unit, the device, and why an earlier mechanism was not used. */
  detail: string;
  /** What dd had written when the throttle took hold of it (0 or close: it is held as it starts). */
  unthrottledBytes: number | null;
}

export type EventSink = (event: OpEvent) => void;
