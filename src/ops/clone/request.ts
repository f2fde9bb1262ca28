// What a user asks of a clone, and the facts preflight establishes before anything changes.
import type { VmEntry } from "../../host/confedit/entry.js";
import type { InUse } from "../allocate.js";
import type { VmNames } from "../names.js";
import type { ThinFacts } from "./thin.js";

export type { CloneRequest } from "../../api/clone.js";

export interface SourceFacts {
  name: string;
  group: string;
  fqdn: string;
  vg: string;
  lv: string;
  lvUuid: string;
  sizeBytes: number;
}

export type { InUse as UsedValues } from "../allocate.js";

export interface CloneFacts {
  source: SourceFacts;
  target: VmNames;
  webName: string | null;
  memory: string;
  memoryBytes: number;
  balloonBytes: number;
  snapshotBytes: number;
  /** Null: thick disks; else how a thin pool makes the new disk (ops/clone/thin.ts). */
  thin?: ThinFacts | null;
  start: boolean;
  used: InUse;
}

export interface ClonePlanned extends CloneFacts {
  entry: VmEntry;
}
