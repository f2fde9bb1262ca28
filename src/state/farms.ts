// The farms table: each farm's resolved spec as last applied, and the last farm operation on it.
import type { ResolvedFarm } from "../api/farm.js";
import { now, type Db } from "./db.js";

export interface FarmRecord {
  name: string;
  file: string;
  specHash: string;
  /** The ResolvedFarm last applied; null when the stored JSON cannot be read (hand-edited). */
  spec: ResolvedFarm | null;
  opId: string | null;
  createdAt: string;
  updatedAt: string;
  /** Identity.owner of its first farm up; null for a farm made before owners were kept. */
  owner: string | null;
}

interface Row {
  name: string;
  file: string;
  spec_hash: string;
  spec: string;
  op_id: string | null;
  created_at: string;
  updated_at: string;
  owner: string | null;
}

function parseSpec(json: string): ResolvedFarm | null {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as ResolvedFarm) : null;
  } catch {
    return null;
  }
}

const fromRow = (r: Row): FarmRecord => ({
  name: r.name,
  file: r.file,
  specHash: r.spec_hash,
  spec: parseSpec(r.spec),
  opId: r.op_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  owner: r.owner,
});

export class Farms {
  constructor(private readonly db: Db) {}

  get(name: string): FarmRecord | null {
    const row = this.db.prepare("SELECT * FROM farms WHERE name = ?").get(name) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  list(): FarmRecord[] {
    return (this.db.prepare("SELECT * FROM farms ORDER BY name").all() as Row[]).map(fromRow);
  }

  /** Records the farm as applied by operation `opId`; its creation time is kept on update. */
  upsert(farm: ResolvedFarm, opId: string): FarmRecord {
    const at = now();
    this.db
      .prepare(
        `INSERT INTO farms (name, file, spec_hash, spec, op_id, created_at, updated_at, owner)
         VALUES (@name, @file, @specHash, @spec, @opId, @at, @at,
           (SELECT owner FROM operations WHERE id = @opId))
         ON CONFLICT(name) DO UPDATE SET file = excluded.file, spec_hash = excluded.spec_hash,
           spec = excluded.spec, op_id = excluded.op_id, updated_at = excluded.updated_at`,
      )
      .run({
        name: farm.name,
        file: farm.file,
        specHash: farm.specHash,
        spec: JSON.stringify(farm),
        opId,
        at,
      });
    return this.get(farm.name)!;
  }

  /** Drops the farm's record; true if there was one. Its members' rows are the inventory's. */
  delete(name: string): boolean {
    return this.db.prepare("DELETE FROM farms WHERE name = ?").run(name).changes === 1;
  }
}
