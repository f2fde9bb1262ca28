// Pure parsers of LVM 2.03 JSON reports (`--reportformat json --units b --nosuffix`) and
// of its failure messages.
import { AlreadyExists, CommandFailed, NotFound, Unavailable } from "../api/errors.js";
import type { FarmError } from "../api/errors.js";
import type { RunResult } from "./runner.js";
import { unexpectedOutput } from "./parse-error.js";

export interface LogicalVolume {
  vg: string;
  name: string;
  uuid: string;
  sizeBytes: number;
  /** lv_attr, e.g. "-wi-ao----"; "s" first for a snapshot, "o" for an origin of snapshots. */
  attr: string;
  /** Origin LV of a snapshot, null otherwise. */
  origin: string | null;
  path: string;
  /** How full a snapshot is, in percent; null when not applicable. */
  dataPercent: number | null;
  tags: string[];
}

export interface VgInfo {
  name: string;
  sizeBytes: number;
  freeBytes: number;
  extentBytes: number;
}

export const LV_FIELDS = [
  "lv_name",
  "vg_name",
  "lv_uuid",
  "lv_size",
  "lv_attr",
  "origin",
  "lv_path",
  "data_percent",
  "lv_tags",
] as const;
export const VG_FIELDS = ["vg_name", "vg_size", "vg_free", "vg_extent_size"] as const;

function toBytes(text: unknown, what: string): number {
  if (typeof text !== "string" || !/^\d+$/.test(text)) {
    throw unexpectedOutput("lvm", `bad ${what} '${String(text)}'`);
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw unexpectedOutput("lvm", `${what} ${text} exceeds 2^53`);
  return n;
}

/** Rows of the first report of `lvs|vgs --reportformat json`. */
function reportRows(stdout: string, key: "lv" | "vg"): Record<string, unknown>[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw unexpectedOutput("lvm", "report is not JSON", stdout);
  }
  const rows = (doc as { report?: Record<string, unknown>[] }).report?.[0]?.[key];
  if (!Array.isArray(rows)) throw unexpectedOutput("lvm", `no '${key}' report`, stdout);
  return rows as Record<string, unknown>[];
}

export function parseLvs(stdout: string): LogicalVolume[] {
  return reportRows(stdout, "lv").map((r) => {
    const s = (k: (typeof LV_FIELDS)[number]): string => {
      const v = r[k];
      if (typeof v !== "string") throw unexpectedOutput("lvs", `missing ${k}`);
      return v;
    };
    const pct = s("data_percent");
    return {
      vg: s("vg_name"),
      name: s("lv_name"),
      uuid: s("lv_uuid"),
      sizeBytes: toBytes(r.lv_size, "lv_size"),
      attr: s("lv_attr"),
      origin: s("origin") || null,
      path: s("lv_path"),
      dataPercent: pct === "" ? null : Number(pct),
      tags: s("lv_tags") === "" ? [] : s("lv_tags").split(","),
    };
  });
}

export function parseVgs(stdout: string): VgInfo[] {
  return reportRows(stdout, "vg").map((r) => ({
    name: String(r.vg_name),
    sizeBytes: toBytes(r.vg_size, "vg_size"),
    freeBytes: toBytes(r.vg_free, "vg_free"),
    extentBytes: toBytes(r.vg_extent_size, "vg_extent_size"),
  }));
}

/** Maps LVM's failure messages to FarmErrors; anything else stays a CommandFailed. */
export function lvmError(r: RunResult): FarmError {
  const err = r.stderr;
  const details = { argv: [...r.argv], exitCode: r.exitCode, stderr: err };
  const vg = /Volume group "([^"]+)" not found/.exec(err);
  if (vg) {
    return new NotFound(
      `volume group '${vg[1]}' not found`,
      "`vgs` lists the volume groups",
      details,
    );
  }
  const lv = /Failed to find logical volume "([^"]+)"/.exec(err);
  if (lv) {
    return new NotFound(`logical volume '${lv[1]}' not found`, "`lvs` lists the volumes", details);
  }
  const dup = /Logical Volume "([^"]+)" already exists in volume group "([^"]+)"/.exec(err);
  if (dup) {
    return new AlreadyExists(
      `logical volume '${dup[2]}/${dup[1]}' already exists`,
      "pick another name, or remove the old volume after checking what it holds",
      details,
    );
  }
  if (/snapshot without using device-mapper/.test(err)) {
    return new Unavailable(
      "LVM cannot create snapshots here: the kernel has no device-mapper",
      "load the device-mapper snapshot target (`modprobe dm-snapshot`)",
      details,
    );
  }
  if (/Can't create thin(-pool)? without using device-mapper/.test(err)) {
    return new Unavailable(
      "LVM cannot create thin volumes here: the kernel has no device-mapper thin target",
      "load it (`modprobe dm-thin-pool`), or clear [lvm] thin_pool and clone from a thick source",
      details,
    );
  }
  return new CommandFailed(r.argv, r.exitCode, r.stderr, r.stdout);
}
