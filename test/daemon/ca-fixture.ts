// farmd's CA over a fresh state directory and database per test, with the real openssl.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { Ca } from "../../src/daemon/ca/ca.js";
import { ExecaRunner } from "../../src/host/runner.js";
import { openDb, type Db } from "../../src/state/db.js";

export interface CaFixture {
  stateDir: string;
  db: Db;
  ca: Ca;
  /** Moves the CA's clock (validity, expiry) by `days` from now. */
  clockDays: number;
}

/** Call inside a describe: `t()` is the test's CA (not initialised). */
export function useCa(): () => CaFixture {
  let f: CaFixture | undefined;
  beforeEach(() => {
    const stateDir = mkdtempSync(join(tmpdir(), "farmd-ca-"));
    const db = openDb(stateDir);
    const fixture: CaFixture = { stateDir, db, ca: undefined as unknown as Ca, clockDays: 0 };
    fixture.ca = new Ca({
      db,
      stateDir,
      runner: new ExecaRunner(),
      clock: () => new Date(Date.now() + fixture.clockDays * 86_400_000),
    });
    f = fixture;
  });
  afterEach(() => {
    f?.db.close();
    if (f) rmSync(f.stateDir, { recursive: true, force: true });
  });
  return () => f!;
}

/** Every file under `dir` with its mode, e.g. {"ca/ca.key": "600"}: what a test may see change. */
export function filesWithModes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      out[path] = (statSync(join(dir, path)).mode & 0o777).toString(8);
      if (e.isDirectory()) walk(path);
    }
  };
  walk("");
  return out;
}

/** The error a promise rejects with, to assert its code, exit code, message and hint. */
export async function refusal(p: Promise<unknown>): Promise<FarmError> {
  const err = await p.then(
    () => new Error("expected a refusal"),
    (e: unknown) => e,
  );
  if (!(err instanceof FarmError)) throw err;
  return err;
}
