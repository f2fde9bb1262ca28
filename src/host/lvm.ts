// LVM adapter: JSON reports in bytes, and removals that are guarded by the LV's UUID.
import { BadInput, EXIT, FarmError, NotFound } from "../api/errors.js";
import type { RunResult, Runner } from "./runner.js";
import { LV_FIELDS, VG_FIELDS, lvmError, parseLvs, parseVgs } from "./lvm-parse.js";
import type { LogicalVolume, VgInfo } from "./lvm-parse.js";
import { unexpectedOutput } from "./parse-error.js";
import { hostBusyPolicy, removeWhenFree, stopLeftovers, type BusyPolicy } from "./lvm-remove.js";
import {
  THIN_FIELDS,
  activateArgv,
  parseThinReport,
  thinCreateArgv,
  thinSnapshotArgv,
  type ThinRow,
} from "./lvm-thin.js";

export { lvmError, parseLvs, parseVgs } from "./lvm-parse.js";
export type { LogicalVolume, VgInfo } from "./lvm-parse.js";
export type { ThinRow } from "./lvm-thin.js";

/** An lvremove that farmctl refused because the LV is not the one it recorded. */
export class RemovalRefused extends FarmError {
  constructor(message: string, hint: string, details: Record<string, unknown>) {
    super("removal_refused", message, EXIT.failed, hint, details);
  }
}

const REPORT = ["--reportformat", "json", "--units", "b", "--nosuffix"];
// lvm(8) names: no leading "-", and "." / ".." are reserved
const NAME = /^(?!\.\.?$)[A-Za-z0-9_+.][A-Za-z0-9_+.-]*$/;

function checkName(name: string, what: string): string {
  if (!NAME.test(name)) throw new BadInput(`invalid ${what} name: '${name}'`);
  return name;
}

// lvm(8) tag characters, at most 1024; no leading "-", which lvcreate would read as an option
const TAG = /^[A-Za-z0-9_+.][A-Za-z0-9_+.-]{0,1023}$/;

export function checkTag(tag: string): string {
  if (!TAG.test(tag))
    throw new BadInput(`invalid LVM tag: '${tag}'`, "tags use A-Za-z0-9_+.- only");
  return tag;
}

/** The tag on every LV and snapshot an operation creates: `lvs -o +lv_tags` names the operation. */
export function opTag(opId: string): string {
  return checkTag(`farmd_op_${opId}`);
}

/** How an LV is known to be farmd's: the UUID recorded when it was made, or its operation's tag. */
export interface LvOwner {
  uuid?: string;
  tag?: string;
}

export interface CreateOpts {
  tags?: string[];
  /** Called as soon as lvcreate returned, before the LV is read back (the crash hook's "acted"). */
  onCreated?: () => void;
}

export interface RemoveOpts {
  /** An LV already gone is fine (an undo being resumed). */
  allowMissing?: boolean;
  /** Undo and recovery: stop farmd's leftover dd holding the LV before removing it. */
  stopLeftovers?: boolean;
}

const addTags = (tags: string[] = []) => tags.flatMap((t) => ["--addtag", checkTag(t)]);

function checkSize(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new BadInput(`invalid size: ${bytes} bytes`);
  return `${bytes}b`; // lvcreate takes a "b" (bytes) unit and rounds up to whole extents
}

export function devicePath(vg: string, name: string): string {
  return `/dev/${checkName(vg, "VG")}/${checkName(name, "LV")}`;
}

export class Lvm {
  constructor(
    private readonly runner: Runner,
    private readonly busy: BusyPolicy = hostBusyPolicy,
  ) {}

  devicePath(vg: string, name: string): string {
    return devicePath(vg, name);
  }

  async list(vg: string): Promise<LogicalVolume[]> {
    const argv = ["lvs", ...REPORT, "-o", LV_FIELDS.join(","), checkName(vg, "VG")];
    return parseLvs((await this.exec(argv, true)).stdout);
  }

  /** Reads the whole VG: asking lvs for one missing LV is an error, absence is not. */
  async find(vg: string, name: string): Promise<LogicalVolume | null> {
    checkName(name, "LV");
    return (await this.list(vg)).find((lv) => lv.name === name) ?? null;
  }

  async vgInfo(vg: string): Promise<VgInfo> {
    const argv = ["vgs", ...REPORT, "-o", VG_FIELDS.join(","), checkName(vg, "VG")];
    const row = parseVgs((await this.exec(argv, true)).stdout)[0];
    if (!row) throw new NotFound(`volume group '${vg}' not found`, "`vgs` lists the volume groups");
    return row;
  }

  /** --yes: a signature left by a former LV is wiped instead of prompting on a stdin we lack. */
  createArgv(vg: string, name: string, sizeBytes: number, tags?: string[]): string[] {
    const size = checkSize(sizeBytes);
    const lv = checkName(name, "LV");
    return [
      "lvcreate",
      "--yes",
      "--size",
      size,
      "--name",
      lv,
      ...addTags(tags),
      checkName(vg, "VG"),
    ];
  }

  snapshotArgv(
    vg: string,
    originLv: string,
    name: string,
    sizeBytes: number,
    tags?: string[],
  ): string[] {
    const size = checkSize(sizeBytes);
    const origin = devicePath(vg, originLv);
    const lv = checkName(name, "LV");
    return ["lvcreate", "--snapshot", "--size", size, "--name", lv, ...addTags(tags), origin];
  }

  removeArgv(vg: string, name: string): string[] {
    return ["lvremove", "-f", `${checkName(vg, "VG")}/${checkName(name, "LV")}`];
  }

  /** Creates vg/name (with `tags`) and reads it back: the caller records its uuid. */
  async create(
    vg: string,
    name: string,
    sizeBytes: number,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    return this.createBy(this.createArgv(vg, name, sizeBytes, opts.tags), vg, name, opts);
  }

  async createSnapshot(
    vg: string,
    originLv: string,
    name: string,
    sizeBytes: number,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    const argv = this.snapshotArgv(vg, originLv, name, sizeBytes, opts.tags);
    return this.createBy(argv, vg, name, opts);
  }

  async thinReport(vg: string): Promise<ThinRow[]> {
    const argv = ["lvs", ...REPORT, "-o", THIN_FIELDS.join(","), checkName(vg, "VG")];
    return parseThinReport((await this.exec(argv, true)).stdout);
  }

  thinSnapshotArgv(vg: string, origin: string, name: string, tags: string[] = []): string[] {
    const [v, o, n] = [checkName(vg, "VG"), checkName(origin, "LV"), checkName(name, "LV")];
    return thinSnapshotArgv(v, o, n, tags.map(checkTag));
  }

  thinCreateArgv(vg: string, pool: string, name: string, bytes: number, tags: string[] = []) {
    const [v, p, n] = [checkName(vg, "VG"), checkName(pool, "pool"), checkName(name, "LV")];
    return thinCreateArgv(v, p, n, bytes, tags.map(checkTag));
  }

  activateArgv(vg: string, name: string): string[] {
    return activateArgv(checkName(vg, "VG"), checkName(name, "LV"));
  }

  /** A thin snapshot: no size, the pool's blocks shared until written. Read back for its uuid. */
  async createThinSnapshot(
    vg: string,
    origin: string,
    name: string,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    return this.createBy(this.thinSnapshotArgv(vg, origin, name, opts.tags), vg, name, opts);
  }

  async createThin(
    vg: string,
    pool: string,
    name: string,
    sizeBytes: number,
    opts: CreateOpts = {},
  ): Promise<LogicalVolume> {
    const argv = this.thinCreateArgv(vg, pool, name, sizeBytes, opts.tags);
    return this.createBy(argv, vg, name, opts);
  }

  async activate(vg: string, name: string): Promise<void> {
    await this.exec(this.activateArgv(vg, name), false);
  }

  /**
   * Removes vg/name only if it still carries the UUID recorded when farmctl created it (a string),
   * or the recorded UUID or the operation's tag (an LvOwner). An LV still in use is waited for
   * (bounded) and its holders named if it never frees.
   */
  async removeChecked(
    vg: string,
    name: string,
    expected: string | LvOwner,
    opts: RemoveOpts = {},
  ): Promise<void> {
    const lv = await this.find(vg, name);
    if (!this.checkRemovable(vg, name, expected, lv, opts)) return;
    const device = devicePath(vg, name);
    if (opts.stopLeftovers) await stopLeftovers(device, this.busy);
    const argv = this.removeArgv(vg, name);
    const r = await removeWhenFree(
      this.runner,
      argv,
      device,
      `${vg}/${name}`,
      this.busy,
      !!opts.stopLeftovers,
    );
    if (r.exitCode !== 0) throw lvmError(r);
  }

  /** Throws RemovalRefused unless lv is the recorded volume; false if absent and allowed. */
  checkRemovable(
    vg: string,
    name: string,
    expected: string | LvOwner,
    lv: LogicalVolume | null,
    opts: { allowMissing?: boolean } = {},
  ): boolean {
    const owner = typeof expected === "string" ? { uuid: expected } : expected;
    const what = [owner.uuid && `uuid ${owner.uuid}`, owner.tag && `tag ${owner.tag}`]
      .filter(Boolean)
      .join(" or ");
    const details = {
      vg,
      name,
      expectedUuid: owner.uuid ?? null,
      expectedTag: owner.tag ?? null,
      actualUuid: lv?.uuid ?? null,
    };
    if (!lv) {
      if (opts.allowMissing) return false;
      throw new RemovalRefused(
        `LV ${vg}/${name} (${what}) was expected but is missing; nothing removed`,
        "check `lvs` and the operation's journal before retrying",
        details,
      );
    }
    const owned =
      (owner.uuid !== undefined && lv.uuid === owner.uuid) ||
      (owner.tag !== undefined && lv.tags.includes(owner.tag));
    if (!owned) {
      throw new RemovalRefused(
        `LV ${vg}/${name} has uuid ${lv.uuid}${owner.tag ? ` and tags [${lv.tags.join(",")}]` : ""}, not the recorded ${what}; nothing removed`,
        "another volume now has this name: farmctl will not remove what it did not create",
        details,
      );
    }
    if (lv.attr.startsWith("o") || lv.attr.startsWith("O")) {
      throw new RemovalRefused(
        `LV ${vg}/${name} is the origin of snapshots; lvremove -f would remove them too`,
        `remove its snapshots first (\`lvs -o lv_name,origin ${vg}\`)`,
        details,
      );
    }
    return true;
  }

  /** Runs an lvcreate `argv` of vg/name, then reads the LV back: the caller records its uuid. */
  private async createBy(
    argv: string[],
    vg: string,
    name: string,
    opts: CreateOpts,
  ): Promise<LogicalVolume> {
    await this.exec(argv, false);
    opts.onCreated?.();
    return this.readBack(vg, name);
  }

  private async readBack(vg: string, name: string): Promise<LogicalVolume> {
    const lv = await this.find(vg, name);
    if (!lv) throw unexpectedOutput("lvcreate", `${vg}/${name} not listed after creation`);
    return lv;
  }

  private async exec(argv: string[], readOnly: boolean): Promise<RunResult> {
    const r = await this.runner.run(argv, { readOnly, allowFailure: true });
    if (r.exitCode !== 0) throw lvmError(r);
    return r;
  }
}
