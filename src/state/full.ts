// A full disk under the state directory is an answer, not a crash: SQLite's SQLITE_FULL (and a
// failed write) becomes `state_full` (exit 75, HTTP 507) naming the directory to free.
import { FarmError } from "../api/errors.js";
import type { Db } from "./db.js";

const FULL = new Set(["SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC"]);

export class StateFull extends FarmError {
  constructor(stateDir: string, cause: string) {
    super(
      "state_full",
      `farmd cannot write its journal: the state directory ${stateDir} is full (${cause})`,
      75,
      `free space under ${stateDir}, then run the command again`,
    );
  }
}

export function isFull(err: unknown): boolean {
  return FULL.has((err as { code?: string })?.code ?? "");
}

function translate<F extends (...a: never[]) => unknown>(fn: F, stateDir: string): F {
  return ((...args: never[]) => {
    try {
      return fn(...args);
    } catch (err) {
      throw isFull(err) ? new StateFull(stateDir, (err as Error).message) : err;
    }
  }) as F;
}

type Tx = ((...a: never[]) => unknown) &
  Record<"deferred" | "immediate" | "exclusive", () => unknown>;

/** A transaction function and its `.immediate()` & co., each translating a full disk. */
function transaction(tx: Tx, stateDir: string): Tx {
  const out = translate(tx, stateDir) as Tx;
  for (const mode of ["deferred", "immediate", "exclusive"] as const)
    out[mode] = translate(tx[mode], stateDir);
  return out;
}

const WRITES = new Set(["run", "get", "all", "iterate", "exec", "pragma"]);

function wrap<T extends object>(target: T, stateDir: string): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value = Reflect.get(t, prop, receiver) as unknown;
      if (typeof value !== "function") return value;
      const bound = (value as (...a: never[]) => unknown).bind(t);
      if (prop === "prepare") return (...a: never[]) => wrap(bound(...a) as object, stateDir);
      if (prop === "transaction") return (fn: never) => transaction(bound(fn) as Tx, stateDir);
      return WRITES.has(String(prop)) ? translate(bound, stateDir) : bound;
    },
  });
}

/** The same database, whose writes throw StateFull when the disk under `stateDir` is full. */
export function guardFull(db: Db, stateDir: string): Db {
  return wrap(db, stateDir);
}
