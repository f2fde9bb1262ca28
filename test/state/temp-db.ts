// A fresh state database per test in its own temporary directory, removed after the test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { openDb, type Db } from "../../src/state/db.js";

/** Call inside a describe: `db()` is that test's migrated database. */
export function useTempDb(prefix: string): { db: () => Db } {
  let dir = "";
  let db: Db | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    db = openDb(dir);
  });
  afterEach(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { db: () => db! };
}
