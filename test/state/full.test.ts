// A full state directory is an answer (state_full, exit 75), never a crash: tried on a real tiny
// tmpfs filled up, so SQLite itself reports SQLITE_FULL (issue 8 item 3).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDb, type Db } from "../../src/state/db.js";
import { StateFull, guardFull } from "../../src/state/full.js";

const root = process.getuid?.() === 0;

describe.skipIf(!root)("a state directory on a full filesystem", () => {
  let dir = "";
  let db: Db | undefined;

  afterEach(() => {
    db?.close();
    db = undefined;
    if (dir) {
      execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
      dir = "";
    }
  });

  /** Fills the filesystem with one file until ENOSPC; the database is already open. */
  function fill(path: string): void {
    const chunk = Buffer.alloc(4096, 1);
    for (let i = 0; ; i++) {
      try {
        writeFileSync(join(path, `filler-${i}`), chunk);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe("ENOSPC");
        return;
      }
    }
  }

  /** A guarded database on a 512 KiB tmpfs, then the tmpfs filled: an insert statement on it. */
  function fullDb() {
    dir = mkdtempSync(join(tmpdir(), "farm-full-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", dir]);
    db = guardFull(openDb(dir), dir);
    db.exec("CREATE TABLE t (x TEXT)");
    fill(dir);
    return db.prepare("INSERT INTO t VALUES (?)");
  }

  it("turns SQLITE_FULL into state_full with exit 75 and the directory to free", () => {
    const insert = fullDb();
    let thrown: unknown;
    try {
      for (let i = 0; i < 1000; i++) insert.run("x".repeat(4000));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StateFull);
    const full = thrown as StateFull;
    expect(full.code).toBe("state_full");
    expect(full.exitCode).toBe(75);
    expect(full.message).toContain(dir);
    expect(full.hint).toContain(`free space under ${dir}`);
  });

  it("translates a failing transaction the same way", () => {
    const insert = fullDb();
    const many = db!.transaction(() => {
      for (let i = 0; i < 1000; i++) insert.run("y".repeat(4000));
    });
    expect(() => many.immediate()).toThrow(StateFull);
  });
});
