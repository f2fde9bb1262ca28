// Operations and their step journal: what ran, what it recorded for its undo, how it ended.
import { randomUUID } from "node:crypto";
import { now, type Db } from "./db.js";
import { LIVE_STATES } from "../api/live.js";

import type { OperationRecord, OpState, StepRecord, StepState } from "../api/operations.js";

export type { OperationRecord, OpState, StepRecord, StepState };

export class Journal {
  /** States that could not be written (full disk): shown until a later write lands. */
  private readonly unsaved = new Map<string, { state: OpState; error: string | null }>();

  constructor(private readonly db: Db) {}

  /** `parentId`: the farm operation this one runs for (a member's clone or destroy), whose
   *  owner it has when `owner` is not given. */
  createOperation(
    kind: string,
    target: string,
    params: Record<string, unknown>,
    parentId: string | null = null,
    owner: string | null = null,
  ): string {
    const id = randomUUID().slice(0, 8);
    const t = now();
    this.db
      .prepare(
        `INSERT INTO operations (id, kind, target, state, params, pid, created_at, updated_at, parent_id, owner)
         VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, COALESCE(?, (SELECT owner FROM operations WHERE id = ?)))`,
      )
      .run(id, kind, target, JSON.stringify(params), process.pid, t, t, parentId, owner, parentId);
    return id;
  }

  setOperationState(id: string, state: OpState, error?: unknown): void {
    const json = error === undefined ? null : JSON.stringify(error);
    this.unsaved.set(id, { state, error: json });
    for (const [opId, s] of this.unsaved) {
      this.db
        .prepare("UPDATE operations SET state = ?, error = ?, updated_at = ? WHERE id = ?")
        .run(s.state, s.error, now(), opId);
      this.unsaved.delete(opId);
    }
  }

  operation(id: string): OperationRecord | null {
    const r = this.db.prepare("SELECT * FROM operations WHERE id = ?").get(id) as
      Record<string, string> | undefined;
    if (!r) return null;
    const unsaved = this.unsaved.get(id);
    if (unsaved) Object.assign(r, unsaved);
    return {
      id: r.id!,
      kind: r.kind!,
      target: r.target!,
      state: r.state as OpState,
      params: JSON.parse(r.params!),
      error: r.error ? JSON.parse(r.error) : null,
      createdAt: r.created_at!,
      updatedAt: r.updated_at!,
      parentId: r.parent_id ?? null,
      owner: r.owner ?? null,
    };
  }

  /** The operations a farm operation ran for its members, oldest first. */
  children(parentId: string): OperationRecord[] {
    const rows = this.db
      .prepare("SELECT id FROM operations WHERE parent_id = ? ORDER BY rowid")
      .all(parentId) as { id: string }[];
    return rows.map((r) => this.operation(r.id)!);
  }

  list(limit = 100): OperationRecord[] {
    const rows = this.db
      .prepare("SELECT id FROM operations ORDER BY rowid DESC LIMIT ?")
      .all(limit) as { id: string }[];
    return rows.map((r) => this.operation(r.id)!);
  }

  /** Operations a crashed farmd left running. */
  unfinished(): OperationRecord[] {
    const rows = this.db
      .prepare(
        "SELECT id FROM operations WHERE state IN ('running', 'queued', 'recovering') ORDER BY rowid",
      )
      .all() as { id: string }[];
    return rows.map((r) => this.operation(r.id)!);
  }

  /** Every operation still in flight (queued, running, interrupted, recovering): it owns what it made. */
  live(): OperationRecord[] {
    const rows = this.db
      .prepare(
        `SELECT id FROM operations WHERE state IN (${LIVE_STATES.map(() => "?").join(", ")}) ORDER BY rowid`,
      )
      .all(...LIVE_STATES) as { id: string }[];
    return rows.map((r) => this.operation(r.id)!);
  }

  appendEvent(opId: string, event: unknown): number {
    const next = this.db
      .prepare("SELECT COALESCE(MAX(seq), -1) + 1 AS n FROM events WHERE op_id = ?")
      .get(opId) as { n: number };
    this.db
      .prepare("INSERT INTO events (op_id, seq, event) VALUES (?, ?, ?)")
      .run(opId, next.n, JSON.stringify(event));
    return next.n;
  }

  events(opId: string, afterSeq = -1): { seq: number; event: unknown }[] {
    const rows = this.db
      .prepare("SELECT seq, event FROM events WHERE op_id = ? AND seq > ? ORDER BY seq")
      .all(opId, afterSeq) as { seq: number; event: string }[];
    return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.event) }));
  }

  latestId(): string | null {
    const r = this.db.prepare("SELECT id FROM operations ORDER BY rowid DESC LIMIT 1").get() as
      { id: string } | undefined;
    return r?.id ?? null;
  }

  startStep(opId: string, seq: number, name: string): void {
    this.db
      .prepare(
        "INSERT OR REPLACE INTO steps (op_id, seq, name, state, data, started_at) VALUES (?, ?, ?, 'running', COALESCE((SELECT data FROM steps WHERE op_id = ? AND seq = ?), '{}'), ?)",
      )
      .run(opId, seq, name, opId, seq, now());
  }

  /** Merges what a step learned (an LV's UUID, a backup path) into its journal entry, durably. */
  record(opId: string, seq: number, data: Record<string, unknown>): void {
    const row = this.db
      .prepare("SELECT data FROM steps WHERE op_id = ? AND seq = ?")
      .get(opId, seq) as { data: string } | undefined;
    const merged = { ...(row ? JSON.parse(row.data) : {}), ...data };
    this.db
      .prepare("UPDATE steps SET data = ? WHERE op_id = ? AND seq = ?")
      .run(JSON.stringify(merged), opId, seq);
  }

  setStepState(opId: string, seq: number, state: StepState, error?: string): void {
    this.db
      .prepare(
        "UPDATE steps SET state = ?, error = COALESCE(?, error), finished_at = ? WHERE op_id = ? AND seq = ?",
      )
      .run(state, error ?? null, now(), opId, seq);
  }

  steps(opId: string): StepRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM steps WHERE op_id = ? ORDER BY seq")
      .all(opId) as Record<string, string | number | null>[];
    return rows.map((r) => ({
      seq: r.seq as number,
      name: r.name as string,
      state: r.state as StepState,
      data: JSON.parse(r.data as string),
      error: r.error as string | null,
      startedAt: r.started_at as string,
      finishedAt: r.finished_at as string | null,
    }));
  }
}
