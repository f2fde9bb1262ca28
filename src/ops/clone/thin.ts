// Thin pools (lvmthin(7)): a source disk that is a thin LV is cloned as a thin snapshot of it, made
// active, with no snapshot LV and no copy (the same commands whatever its size); a thick source with
// [lvm] thin_pool set is copied onto a new thin LV of that pool, skipping all-zero blocks.
import { BadInput, Unavailable } from "../../api/errors.js";
import type { Config } from "../../config/schema.js";
import { formatSize } from "../../config/size.js";
import type { CopyOptions, LvInfo, LvmPort, ThinInfo } from "../ports.js";
import type { StepHandle } from "../saga.js";
import type { SourceFacts } from "./request.js";
import type { CloneCtx } from "./steps.js";

/** How the new disk is made when a thin pool is involved; journaled with the preflight's facts. */
export interface ThinFacts {
  /** "snapshot": the source is a thin LV; "target": a thick source copied onto a thin LV. */
  mode: "snapshot" | "target";
  pool: string;
}

/**
 * Preflight: whether the clone goes through a thin pool, and whether that pool has room. The
 * source's pool wins over [lvm] thin_pool: a thin snapshot needs no copy at all.
 */
export async function thinPlan(
  source: SourceFacts,
  lvm: LvmPort,
  config: Config,
): Promise<ThinFacts | null> {
  const report = await lvm.thinReport(source.vg);
  const src = report.find((r) => r.uuid === source.lvUuid);
  const mode = src?.segtype === "thin" ? "snapshot" : config.lvm.thin_pool ? "target" : null;
  if (!mode) return null;
  const pool = mode === "snapshot" ? src!.pool! : config.lvm.thin_pool;
  const row = report.find((r) => r.name === pool);
  if (row?.segtype !== "thin-pool")
    throw new BadInput(
      `[lvm] thin_pool '${pool}' is not a thin pool of VG '${source.vg}' (${row ? `segtype ${row.segtype}` : "no such LV"})`,
      `set thin_pool to a pool \`lvs -o lv_name,segtype ${source.vg}\` shows as thin-pool, or to "" for thick disks`,
    );
  // A thin snapshot shares every block at first; a copy may write the whole disk (zeros skipped).
  checkPoolRoom(row, mode === "target" ? source.sizeBytes : 0, config.lvm.thin_pool_limit);
  return { mode, pool };
}

/** Refuses a clone that would take the pool past `limit` percent (data or metadata). */
export function checkPoolRoom(pool: ThinInfo, addBytes: number, limit: number): void {
  const where = `${pool.name}`;
  const fix = `extend the pool (\`lvextend -L +10G <vg>/${pool.name}\`, and its metadata with --poolmetadatasize), remove unused thin volumes, or raise [lvm] thin_pool_limit`;
  if (pool.metadataPercent !== null && pool.metadataPercent >= limit)
    throw new Unavailable(
      `thin pool ${where} metadata is ${pool.metadataPercent}% full (limit ${limit}%): a full pool's metadata stops every thin volume in it`,
      fix,
      { pool: pool.name, metadataPercent: pool.metadataPercent, limit },
    );
  if (pool.dataPercent === null) return; // an inactive pool reports no use: LVM checks it itself
  const after = pool.dataPercent + (addBytes / pool.sizeBytes) * 100;
  if (after > limit || pool.dataPercent >= limit)
    throw new Unavailable(
      addBytes
        ? `thin pool ${where} is ${pool.dataPercent}% full; copying ${formatSize(addBytes)} onto it may take it to ${after.toFixed(1)}% (limit ${limit}%)`
        : `thin pool ${where} is ${pool.dataPercent}% full (limit ${limit}%): the clone's writes would fill it`,
      fix,
      { pool: pool.name, dataPercent: pool.dataPercent, addBytes, limit },
    );
}

/** VG extents the clone takes outside any pool: a thick snapshot of a thick source, a thick disk. */
export function vgBytesNeeded(thin: ThinFacts | null, diskBytes: number, snapshotBytes: number) {
  if (!thin) return diskBytes + snapshotBytes;
  return thin.mode === "target" ? snapshotBytes : 0;
}

const thinOf = (ctx: CloneCtx) => ctx.facts?.thin ?? null;

/** A thin source is its own point-in-time image: no separate snapshot LV, nothing to drop. */
export const skipsSnapshot = (ctx: CloneCtx): boolean => thinOf(ctx)?.mode === "snapshot";

/** A thin snapshot holds the data already: no dd. */
export function skipsCopy(ctx: CloneCtx): boolean {
  if (thinOf(ctx)?.mode !== "snapshot") return false;
  ctx.deps.events({ type: "info", message: "the new disk is a thin snapshot: nothing to copy" });
  return true;
}

/** A new thin LV reads as zeros: the copy seeks over zero blocks instead of allocating them. */
export const copyOptions = (ctx: CloneCtx): CopyOptions =>
  thinOf(ctx)?.mode === "target" ? { sparse: true } : {};

/**
 * The create-lv step for a thin pool: the thin snapshot (or thin LV), then its activation. A re-run
 * (resumed after farmd stopped mid-step) first looks for the LV an earlier run made: by the UUID it
 * recorded, else by name and this operation's tag; found, it is only activated again.
 */
export async function createThinDisk(
  ctx: CloneCtx,
  step: StepHandle,
  opts: { tags: string[]; onCreated: () => void },
): Promise<LvInfo> {
  const f = ctx.facts!;
  const thin = f.thin!;
  const { lvm } = ctx.deps;
  const vg = f.source.vg;
  const name = f.target.lvName;
  const again = step.data.name !== undefined;
  step.record({ name });
  let lv = again ? await madeEarlier(ctx, step, name, opts.tags[0]!) : undefined;
  if (!lv)
    lv =
      thin.mode === "snapshot"
        ? await lvm.createThinSnapshot(vg, f.source.lv, name, opts)
        : await lvm.createThin(vg, thin.pool, name, f.source.sizeBytes, opts);
  // A thin snapshot is not activated by lvcreate; libguestfs and dd need its device now.
  await lvm.activate(vg, lv.name);
  return lv;
}

async function madeEarlier(
  ctx: CloneCtx,
  step: StepHandle,
  name: string,
  tag: string,
): Promise<LvInfo | undefined> {
  const all = await ctx.deps.lvm.list(ctx.facts!.source.vg);
  if (typeof step.data.uuid === "string") {
    const byUuid = all.find((l) => l.uuid === step.data.uuid);
    if (byUuid) return byUuid;
  }
  return all.find((l) => l.name === name && l.tags?.includes(tag));
}
