// What the farm operations need beyond a clone's adapters: their member operations, the farms'
// records, and a TCP probe for waiting on SSH.
import type { ErrorJson } from "../../api/errors.js";
import type { OpEvent } from "../../api/events.js";
import type { Farms } from "../../state/farms.js";
import type { Journal } from "../../state/journal.js";
import type { CloneDeps } from "../clone/steps.js";

/** How a member's child operation ended. */
export interface ChildEnd {
  state: string;
  result?: unknown;
  error?: ErrorJson;
}

/** Member clones and destroys, run as operations of their own under the farm operation. */
export interface ChildOps {
  /** Admits and starts the child (its preflight's refusal is thrown); `onEvent` sees all its events. */
  start(
    kind: "clone" | "destroy",
    req: object,
    parentId: string,
    onEvent: (opId: string, e: OpEvent) => void,
  ): Promise<string>;
  /** Resolves with the child's end once it ended. */
  wait(opId: string): Promise<ChildEnd>;
  /** Asks a running child to stop and roll back (the farm operation was cancelled). */
  cancel(opId: string): void;
}

/** True when something accepts a TCP connection on host:port within timeoutMs. */
export type TcpProbe = (host: string, port: number, timeoutMs: number) => Promise<boolean>;

export interface FarmExtras {
  journal: Journal;
  farms: Farms;
  children: ChildOps;
  tcpProbe: TcpProbe;
}

/** What a farm kind's context gets; farmd always gives the extras (the clone harness does not). */
export type OpDeps = CloneDeps & Partial<FarmExtras>;

export type FarmDeps = CloneDeps & FarmExtras;

/** The farm kinds run only inside farmd, which gives them their extras. */
export function farmDeps(deps: OpDeps): FarmDeps {
  if (!deps.children || !deps.journal || !deps.tcpProbe || !deps.farms)
    throw new Error("a farm operation runs only inside farmd (no child operations here)");
  return deps as FarmDeps;
}
