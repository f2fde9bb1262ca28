// LVM thin provisioning (lvmthin(7)): the report that tells thin LVs and pools apart, and the argv of
// a thin snapshot, a thin LV and their activation. Pure: the Lvm adapter runs them.
import { BadInput } from "../api/errors.js";
import { unexpectedOutput } from "./parse-error.js";

/** One LV as the thin report shows it. */
export interface ThinRow {
  name: string;
  uuid: string;
  sizeBytes: number;
  /** lvs segtype: "thin" for a thin LV, "thin-pool" for a pool, "linear"/"striped" for thick. */
  segtype: string;
  /** The pool a thin LV lives in; null for any other LV. */
  pool: string | null;
  /** A pool's (or thin LV's) data use in percent; null where LVM reports none (inactive). */
  dataPercent: number | null;
  /** A pool's metadata use in percent; null for anything else or an inactive pool. */
  metadataPercent: number | null;
}

export const THIN_FIELDS = [
  "lv_name",
  "vg_name",
  "lv_uuid",
  "lv_size",
  "segtype",
  "pool_lv",
  "data_percent",
  "metadata_percent",
] as const;

function percent(text: unknown, what: string): number | null {
  if (text === "") return null;
  if (typeof text !== "string" || !/^\d+(\.\d+)?$/.test(text))
    throw unexpectedOutput("lvs", `bad ${what} '${String(text)}'`);
  return Number(text);
}

/** Parses `lvs --reportformat json --units b --nosuffix -o <THIN_FIELDS>`. */
export function parseThinReport(stdout: string): ThinRow[] {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw unexpectedOutput("lvs", "report is not JSON", stdout);
  }
  const rows = (doc as { report?: { lv?: unknown }[] }).report?.[0]?.lv;
  if (!Array.isArray(rows)) throw unexpectedOutput("lvs", "no 'lv' report", stdout);
  return (rows as Record<string, unknown>[]).map((r) => {
    for (const f of THIN_FIELDS)
      if (typeof r[f] !== "string") throw unexpectedOutput("lvs", `missing ${f}`, stdout);
    const size = r.lv_size as string;
    if (!/^\d+$/.test(size) || !Number.isSafeInteger(Number(size)))
      throw unexpectedOutput("lvs", `bad lv_size '${size}'`, stdout);
    return {
      name: r.lv_name as string,
      uuid: r.lv_uuid as string,
      sizeBytes: Number(size),
      segtype: r.segtype as string,
      pool: (r.pool_lv as string) || null,
      dataPercent: percent(r.data_percent, "data_percent"),
      metadataPercent: percent(r.metadata_percent, "metadata_percent"),
    };
  });
}

export const isThin = (row: ThinRow | undefined): boolean => row?.segtype === "thin";
export const isThinPool = (row: ThinRow | undefined): boolean => row?.segtype === "thin-pool";

/**
 * A thin snapshot of vg/origin: no --size (it shares the pool's blocks), and made without the
 * "activation skip" flag lvcreate gives thin snapshots, because Ganeti activates an instance's
 * disk with a plain `lvchange -ay` (storage/bdev.py Assemble), which would skip it.
 */
export function thinSnapshotArgv(vg: string, origin: string, name: string, tags: string[]) {
  return [
    "lvcreate",
    "--snapshot",
    "--setactivationskip",
    "n",
    "--name",
    name,
    ...tags.flatMap((t) => ["--addtag", t]),
    `${vg}/${origin}`,
  ];
}

/** A thin LV of `bytes` (virtual size, whole bytes) in vg/pool; --yes as for a thick LV. */
export function thinCreateArgv(
  vg: string,
  pool: string,
  name: string,
  bytes: number,
  tags: string[],
) {
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new BadInput(`invalid size: ${bytes} bytes`);
  return [
    "lvcreate",
    "--yes",
    "--thin",
    "--virtualsize",
    `${bytes}b`,
    "--name",
    name,
    ...tags.flatMap((t) => ["--addtag", t]),
    `${vg}/${pool}`,
  ];
}

/** Activates vg/name now, whatever its activation-skip flag says (lvmthin(7): `lvchange -ay -K`). */
export function activateArgv(vg: string, name: string): string[] {
  return ["lvchange", "--activate", "y", "--ignoreactivationskip", `${vg}/${name}`];
}
