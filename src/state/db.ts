// The SQLite state: opened once, migrated forward by `user_version`, WAL for concurrent readers.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export type Db = Database.Database;

/** Exported for tests that build a database at an older version. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE vms (
     name TEXT PRIMARY KEY,
     grp TEXT NOT NULL,
     fqdn TEXT NOT NULL UNIQUE,
     ip TEXT NOT NULL UNIQUE,
     mac TEXT NOT NULL UNIQUE,
     ssh_port INTEGER NOT NULL UNIQUE,
     web_name TEXT UNIQUE,
     memory_bytes INTEGER,
     balloon_bytes INTEGER,
     vg TEXT,
     lv_name TEXT,
     lv_uuid TEXT,
     disk_bytes INTEGER,
     source TEXT,
     state TEXT NOT NULL,           -- allocated | ready
     op_id TEXT,
     created_at TEXT NOT NULL
   );
   CREATE TABLE operations (
     id TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     target TEXT NOT NULL,
     state TEXT NOT NULL,           -- running | succeeded | failed | rolled-back | interrupted
     params TEXT NOT NULL,
     error TEXT,
     pid INTEGER,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE TABLE steps (
     op_id TEXT NOT NULL REFERENCES operations(id),
     seq INTEGER NOT NULL,
     name TEXT NOT NULL,
     state TEXT NOT NULL,           -- running | done | failed | undoing | undone | undo-failed
     data TEXT NOT NULL DEFAULT '{}',
     error TEXT,
     started_at TEXT NOT NULL,
     finished_at TEXT,
     PRIMARY KEY (op_id, seq)
   );`,
  // v2: every event of an operation, so `farmctl ops ID --follow` can replay what it missed.
  `CREATE TABLE events (
     op_id TEXT NOT NULL REFERENCES operations(id),
     seq INTEGER NOT NULL,
     event TEXT NOT NULL,
     PRIMARY KEY (op_id, seq)
   );`,
  // v3: the guest's identity learnt from its console after first boot (issue 9).
  `ALTER TABLE vms ADD COLUMN hostname TEXT;
   ALTER TABLE vms ADD COLUMN machine_id TEXT;
   ALTER TABLE vms ADD COLUMN ssh_host_keys TEXT;  -- JSON list of {bits, fingerprint, comment, type}`,
  // v4: staging farms (issue 10): a VM's variables and farm membership, the farms, parent operations.
  `ALTER TABLE vms ADD COLUMN vars TEXT;            -- JSON {key: value} the templates saw
   ALTER TABLE vms ADD COLUMN farm TEXT;            -- farm name, null for a VM of no farm
   ALTER TABLE vms ADD COLUMN member TEXT;          -- member key in the farm's spec
   ALTER TABLE vms ADD COLUMN member_spec TEXT;     -- JSON MemberSpec as last applied
   ALTER TABLE vms ADD COLUMN spec_hash TEXT;       -- ResolvedFarm.specHash as last applied
   CREATE TABLE farms (
     name TEXT PRIMARY KEY,
     file TEXT NOT NULL,
     spec_hash TEXT NOT NULL,
     spec TEXT NOT NULL,                            -- JSON ResolvedFarm as last applied
     op_id TEXT,                                    -- the last farm operation
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   ALTER TABLE operations ADD COLUMN parent_id TEXT; -- a farm operation's member clones and destroys`,
  // v5: the remote API (issue 11): owners, leases, farmd's CA's certificates.
  `ALTER TABLE vms ADD COLUMN owner TEXT;           -- Identity.owner of the clone; null: made before v5
   ALTER TABLE vms ADD COLUMN expires_at TEXT;      -- the lease's end (ISO 8601); null: no lease
   ALTER TABLE operations ADD COLUMN owner TEXT;    -- Identity.owner who started it
   ALTER TABLE farms ADD COLUMN owner TEXT;         -- Identity.owner of the first farm up
   CREATE TABLE certificates (
     serial TEXT PRIMARY KEY,                       -- lower-case hex, no colons
     name TEXT NOT NULL,
     role TEXT NOT NULL,                            -- reader | operator | admin
     sources TEXT,                                  -- JSON list of glob patterns; null: any source
     max_vms INTEGER,                               -- null: no quota
     fingerprint TEXT NOT NULL UNIQUE,              -- SHA-256 of the DER, as Node's fingerprint256
     not_before TEXT NOT NULL,
     not_after TEXT NOT NULL,
     issued_at TEXT NOT NULL,
     revoked_at TEXT
   );
   CREATE INDEX certificates_name ON certificates(name);`,
];

export const dbPath = (stateDir: string): string => join(stateDir, "farmd.sqlite");

export function openDb(stateDir: string): Db {
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const db = new Database(dbPath(stateDir));
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  migrate(db);
  return db;
}

/** A database that lives as long as the process: dry-run journals. */
export function openMemoryDb(): Db {
  const db = new Database(":memory:");
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const version = db.pragma("user_version", { simple: true }) as number;
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}

export const now = (): string => new Date().toISOString();
