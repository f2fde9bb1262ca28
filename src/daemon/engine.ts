// Runs operations in this process: config, state, host lock, adapters, saga. farmd will host it.
import type { CloneRequest, CloneResult } from "../api/clone.js";
import type { EventSink } from "../api/events.js";
import { loadConfig } from "../config/load.js";
import { stateDir as resolveStateDir } from "../config/paths.js";
import { acquireHostLock } from "../host/lock.js";
import type { Runner } from "../host/runner.js";
import type { Resolver } from "../host/resolve.js";
import { findExecutable } from "../host/which.js";
import { runClone } from "../ops/clone/run.js";
import { existsSync } from "node:fs";
import { dbPath, openDb, openMemoryDb } from "../state/db.js";
import { Inventory } from "../state/inventory.js";
import { Journal } from "../state/journal.js";
import { buildHost } from "./host.js";

export interface EngineOptions {
  configPath?: string;
  dryRun: boolean;
  events: EventSink;
  /** Tests inject a scripted runner and resolver. */
  runner?: Runner;
  resolve?: Resolver;
}

export async function cloneLocally(req: CloneRequest, o: EngineOptions): Promise<CloneResult> {
  const { config } = loadConfig(o.configPath);
  const stateDir = resolveStateDir(config);
  // A dry run reads the real inventory (if any) but journals into a throw-away database.
  const db = o.dryRun && !existsSync(dbPath(stateDir)) ? openMemoryDb() : openDb(stateDir);
  const scratch = o.dryRun ? openMemoryDb() : null;
  const lock = o.dryRun ? null : acquireHostLock(stateDir, `clone ${req.source} ${req.name}`);
  try {
    const host = buildHost(config, {
      dryRun: o.dryRun,
      events: o.events,
      stateDir,
      runner: o.runner,
      resolve: o.resolve,
    });
    const deps = {
      config,
      ...host,
      inventory: new Inventory(db),
      findExecutable: (t: string) => findExecutable(t),
      events: o.events,
      dryRun: o.dryRun,
    };
    return await runClone(req, { deps, journal: new Journal(scratch ?? db) });
  } finally {
    lock?.release();
    scratch?.close();
    db.close();
  }
}
