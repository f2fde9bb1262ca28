// Wire types of farmd's operations and their journaled steps.
export type OpState =
  | "queued"
  | "running"
  | "recovering" // left unfinished by a crash; farmd is undoing (or finishing) it
  | "succeeded"
  | "failed"
  | "rolled-back"
  | "interrupted";
export type StepState = "running" | "done" | "failed" | "undoing" | "undone" | "undo-failed";

export interface StepRecord {
  seq: number;
  name: string;
  state: StepState;
  data: Record<string, unknown>;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface OperationRecord {
  id: string;
  kind: string;
  target: string;
  state: OpState;
  params: Record<string, unknown>;
  error: unknown;
  createdAt: string;
  updatedAt: string;
  /** The farm operation this one ran under (a member's clone or destroy); null for the others. */
  parentId: string | null;
  /** Who started it (Identity.owner); a farm's member operations are the farm operation's owner's. */
  owner: string | null;
}
