// The CLI's only way to the engine. Until farmd exists, operations run in this process.
import type { CloneRequest, CloneResult } from "../api/clone.js";
import type { EventSink } from "../api/events.js";
import { cloneLocally } from "../daemon/engine.js";

export interface FarmClient {
  clone(req: CloneRequest, opts: { dryRun: boolean; onEvent: EventSink }): Promise<CloneResult>;
}

export function connect(opts: { configPath?: string }): FarmClient {
  return {
    clone: (req, o) =>
      cloneLocally(req, { configPath: opts.configPath, dryRun: o.dryRun, events: o.onEvent }),
  };
}
