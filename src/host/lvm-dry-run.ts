// LVM for --dry-run: the real VG read, each change reported through the dry-run runner, and the
// volume that would have been created given back.
import type { Runner } from "./runner.js";
import type { LogicalVolume, VgInfo } from "./lvm-parse.js";
import type { ThinRow } from "./lvm-thin.js";
import { devicePath, type CreateOpts, type Lvm, type LvOwner } from "./lvm.js";

/** UUID given to volumes a dry run only pretends to create. */
export const DRY_RUN_UUID = "dry-run-not-created";

/**
 * For --dry-run: reads the real VG, reports each change through the (dry-run) runner,
 * and answers with the volume that would have been created.
 */
export class DryRunLvm {
  constructor(
    private readonly real: Lvm,
    private readonly runner: Runner,
  ) {}

  devicePath = (vg: string, name: string): string => this.real.devicePath(vg, name);
  list = (vg: string): Promise<LogicalVolume[]> => this.real.list(vg);
  find = (vg: string, name: string): Promise<LogicalVolume | null> => this.real.find(vg, name);
  vgInfo = (vg: string): Promise<VgInfo> => this.real.vgInfo(vg);

  async create(
    vg: string,
    name: string,
    sizeBytes: number,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    await this.runner.run(this.real.createArgv(vg, name, sizeBytes, opts.tags));
    return planned(vg, name, sizeBytes, null, opts.tags);
  }

  async createSnapshot(
    vg: string,
    origin: string,
    name: string,
    sizeBytes: number,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    await this.runner.run(this.real.snapshotArgv(vg, origin, name, sizeBytes, opts.tags));
    return planned(vg, name, sizeBytes, origin, opts.tags);
  }

  thinReport = (vg: string): Promise<ThinRow[]> => this.real.thinReport(vg);

  async createThinSnapshot(
    vg: string,
    origin: string,
    name: string,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    await this.runner.run(this.real.thinSnapshotArgv(vg, origin, name, opts.tags));
    const size = (await this.real.find(vg, origin))?.sizeBytes ?? 0;
    return planned(vg, name, size, origin, opts.tags, "Vwi---tz--");
  }

  async createThin(
    vg: string,
    pool: string,
    name: string,
    sizeBytes: number,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    await this.runner.run(this.real.thinCreateArgv(vg, pool, name, sizeBytes, opts.tags));
    return planned(vg, name, sizeBytes, null, opts.tags, "Vwi---tz--");
  }

  async activate(vg: string, name: string): Promise<void> {
    await this.runner.run(this.real.activateArgv(vg, name));
  }

  async removeChecked(vg: string, name: string, expected: string | LvOwner): Promise<void> {
    if (expected !== DRY_RUN_UUID) {
      this.real.checkRemovable(vg, name, expected, await this.real.find(vg, name));
    }
    await this.runner.run(this.real.removeArgv(vg, name));
  }
}

function planned(
  vg: string,
  name: string,
  sizeBytes: number,
  origin: string | null,
  tags: string[] = [],
  thinAttr?: string,
): LogicalVolume {
  const path = devicePath(vg, name);
  const attr = thinAttr ?? (origin ? "swi-------" : "-wi-------");
  return {
    vg,
    name,
    uuid: DRY_RUN_UUID,
    sizeBytes,
    attr,
    origin,
    path,
    dataPercent: null,
    tags,
  };
}
