// The certificates table: every client certificate farmd's CA issued, its role, limits and revocation.
import type { CertRecord, Role } from "../api/auth.js";
import type { Db } from "./db.js";

interface Row {
  serial: string;
  name: string;
  role: string;
  sources: string | null;
  max_vms: number | null;
  fingerprint: string;
  not_before: string;
  not_after: string;
  issued_at: string;
  revoked_at: string | null;
}

/** A hand-edited sources column reads as "no source allowed", never as "any". */
function parseSources(json: string | null): string[] | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((s) => typeof s === "string") ? v : [];
  } catch {
    return [];
  }
}

const fromRow = (r: Row): CertRecord => ({
  serial: r.serial,
  name: r.name,
  role: r.role as Role,
  sources: parseSources(r.sources),
  maxVms: r.max_vms,
  fingerprint: r.fingerprint,
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuedAt: r.issued_at,
  revokedAt: r.revoked_at,
});

export class Certs {
  constructor(private readonly db: Db) {}

  insert(c: CertRecord): void {
    this.db
      .prepare(
        `INSERT INTO certificates (serial, name, role, sources, max_vms, fingerprint, not_before,
           not_after, issued_at, revoked_at)
         VALUES (@serial, @name, @role, @sources, @maxVms, @fingerprint, @notBefore, @notAfter,
           @issuedAt, @revokedAt)`,
      )
      .run({ ...c, sources: c.sources === null ? null : JSON.stringify(c.sources) });
  }

  /** Oldest first, revoked and expired ones included. */
  list(): CertRecord[] {
    const rows = this.db
      .prepare("SELECT * FROM certificates ORDER BY issued_at, serial")
      .all() as Row[];
    return rows.map(fromRow);
  }

  bySerial(serial: string): CertRecord | null {
    const row = this.db.prepare("SELECT * FROM certificates WHERE serial = ?").get(serial) as
      Row | undefined;
    return row ? fromRow(row) : null;
  }

  /** The name's certificates neither revoked nor expired at `at` (ISO 8601). */
  active(name: string, at: string): CertRecord[] {
    const rows = this.db
      .prepare(
        "SELECT * FROM certificates WHERE name = ? AND revoked_at IS NULL AND not_after > ? ORDER BY issued_at",
      )
      .all(name, at) as Row[];
    return rows.map(fromRow);
  }

  /** Marks every unrevoked certificate of `name` revoked at `at`; returns them as revoked. */
  revoke(name: string, at: string): CertRecord[] {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare("SELECT * FROM certificates WHERE name = ? AND revoked_at IS NULL")
        .all(name) as Row[];
      this.db
        .prepare("UPDATE certificates SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL")
        .run(at, name);
      return rows.map((r) => fromRow({ ...r, revoked_at: at }));
    })();
  }
}
