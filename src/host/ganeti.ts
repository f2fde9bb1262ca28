// Ganeti adapter: queries and changes instances through gnt-instance, never its config files.
import { AlreadyExists, BadInput, CommandFailed, NotFound, Unavailable } from "../api/errors.js";
import type { FarmError } from "../api/errors.js";
import type { RunResult, Runner } from "./runner.js";
import {
  JOB_FINAL,
  LIST_FIELDS,
  LIST_SEPARATOR,
  parseGanetiFailure,
  parseInstanceInfo,
  parseInstanceInfos,
  parseInstanceList,
  parseJobFailure,
  parseJobId,
  parseJobList,
  parseTagList,
  TAG_FIELDS,
} from "./ganeti-parse.js";
import { checkTag } from "./ganeti-tags.js";
import type { GanetiJob } from "./ganeti-parse.js";
import type { GanetiInstance, InstanceInfo } from "./ganeti-parse.js";
import { parseVolumes, volumesArgv, type GanetiVolume } from "./ganeti-volumes.js";
import { unexpectedOutput } from "./parse-error.js";

export type { GanetiInstance, GanetiJob, InstanceStatus } from "./ganeti-parse.js";
export type { GanetiVolume } from "./ganeti-volumes.js";

/** What a job of farmd's does, as `gnt-job list` summarizes it: OP(instance name). */
export type JobOp = "INSTANCE_CREATE" | "INSTANCE_REMOVE";

/** Called with a submitted job's id before farmd waits on it, to journal it. */
export type OnJob = (jobId: number) => void;

export interface AddParams {
  /** Primary node, e.g. "host01.farm". */
  node: string;
  /** Ganeti memory value, e.g. "4G". */
  memory: string;
  /** OS variant, e.g. "debootstrap+default" (checked even with --no-install). */
  os: string;
  /** Name of the LV to adopt in the cluster's VG; Ganeti renames it to <uuid>.diskN. */
  lvName: string;
  mac: string;
  /** Instance name; Ganeti 3.0 refuses it unless it resolves. */
  fqdn: string;
  /** Instance tags (a farm member's farmctl:farm:/farmctl:member:), each checked as Ganeti does. */
  tags?: readonly string[];
}

/** What disksOf needs of a listed instance. */
export type DiskOwner = Pick<GanetiInstance, "name" | "diskTemplate" | "diskSizesBytes">;

export interface InstanceDiskLv {
  index: number;
  vg: string;
  lv: string;
  sizeBytes: number;
}

const FQDN =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const MEMORY = /^[1-9][0-9]*[MGT]?$/;
const OS = /^[A-Za-z0-9_.-]+(?:\+[A-Za-z0-9_.-]+)?$/;
// LVM's name charset; "," or "=" would inject extra keys into Ganeti's --disk option
const LV = /^[A-Za-z0-9_+.][A-Za-z0-9_+.-]*$/;

function check(value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw new BadInput(`invalid ${what}: '${value}'`);
  return value;
}

export class Ganeti {
  /** `dryRun`: submits are only reported (no job id comes back), so there is nothing to wait on. */
  constructor(
    private readonly runner: Runner,
    private readonly opts: { dryRun?: boolean } = {},
  ) {}

  listArgv(): string[] {
    return [
      "gnt-instance",
      "list",
      "--no-headers",
      `--separator=${LIST_SEPARATOR}`,
      "--units=m", // explicit: be/memory in MiB whatever Ganeti's default unit
      "-o",
      LIST_FIELDS.join(","),
    ];
  }

  async listInstances(): Promise<GanetiInstance[]> {
    const r = await this.exec(this.listArgv(), true);
    return parseInstanceList(r.stdout);
  }

  /** Every instance's tags in one list call: fqdn -> tags. */
  async instanceTags(): Promise<Map<string, string[]>> {
    const argv = ["gnt-instance", "list", "--no-headers", `--separator=${LIST_SEPARATOR}`];
    const r = await this.exec([...argv, "-o", TAG_FIELDS.join(",")], true);
    return parseTagList(r.stdout);
  }

  /** Lists everything and picks the exact name: Ganeti would otherwise expand short names. */
  async findInstance(fqdn: string): Promise<GanetiInstance | null> {
    return (await this.listInstances()).find((i) => i.name === fqdn) ?? null;
  }

  /** The LVs behind a plain instance, as Ganeti records them (logical_id), never guessed. */
  async instanceDisks(fqdn: string): Promise<InstanceDiskLv[]> {
    const inst = await this.findInstance(fqdn);
    if (!inst) {
      throw new NotFound(
        `Ganeti instance '${fqdn}' not found`,
        "`gnt-instance list` shows the instances",
      );
    }
    const r = await this.exec(["gnt-instance", "info", "--static", fqdn], true);
    const info = parseInstanceInfo(r.stdout);
    if (info.name !== fqdn) {
      throw unexpectedOutput("gnt-instance info", `asked for ${fqdn}, got ${info.name}`);
    }
    return diskLvs(inst, info);
  }

  /**
   * The LVs of several listed instances in one `gnt-instance info --static` (config only, no
   * node asked): fqdn -> disks, for those whose disks are all plain LVs; no call when none is.
   */
  async disksOf(instances: readonly DiskOwner[]): Promise<Map<string, InstanceDiskLv[]>> {
    const plain = instances.filter((i) => i.diskTemplate === "plain");
    const out = new Map<string, InstanceDiskLv[]>();
    if (plain.length === 0) return out;
    const names = plain.map((i) => check(i.name, FQDN, "instance name"));
    const r = await this.exec(["gnt-instance", "info", "--static", ...names], true);
    const byName = new Map(plain.map((i) => [i.name, i]));
    for (const info of parseInstanceInfos(r.stdout)) {
      const inst = byName.get(info.name);
      if (!inst) throw unexpectedOutput("gnt-instance info", `not asked for ${info.name}`);
      try {
        out.set(info.name, diskLvs(inst, info));
      } catch (e) {
        if (!(e instanceof BadInput)) throw e; // a disk of another kind: no LV to show
      }
    }
    return out;
  }

  /** Every LV of every node and the instance owning it, in one `gnt-node volumes`. */
  async volumes(): Promise<GanetiVolume[]> {
    return parseVolumes((await this.exec(volumesArgv(), true)).stdout);
  }

  /** The seed's command; --no-install already implies --no-start ("disabling startup"). */
  addArgv(p: AddParams): string[] {
    return [
      "gnt-instance",
      "add",
      "-n",
      check(p.node, FQDN, "node name"),
      "-B",
      `memory=${check(p.memory, MEMORY, "memory")}`,
      "-o",
      check(p.os, OS, "OS name"),
      "-t",
      "plain",
      "--disk",
      `0:adopt=${check(p.lvName, LV, "LV name")}`,
      "--no-install",
      "--net",
      `0:mac=${check(p.mac, MAC, "MAC address")}`,
      // Ganeti splits --tags on ","; checkTag admits no "," so each tag stays whole.
      ...(p.tags?.length ? ["--tags", p.tags.map(checkTag).join(",")] : []),
      check(p.fqdn, FQDN, "instance name"),
    ];
  }

  /** Submits the add as a Ganeti job, journals its id through `onJob`, then waits for its end. */
  async add(p: AddParams, onJob: OnJob = () => {}): Promise<void> {
    await this.runJob(this.addArgv(p), onJob);
  }

  async start(fqdn: string): Promise<void> {
    await this.exec(["gnt-instance", "start", check(fqdn, FQDN, "instance name")], false);
  }

  /**
   * Sets the instance's memory (be/maxmem and minmem): the running guest keeps what it has until
   * Ganeti restarts it; the balloon works within what it was started with.
   */
  async setMemory(fqdn: string, memory: string): Promise<void> {
    await this.exec(
      [
        "gnt-instance",
        "modify",
        "-B",
        `memory=${check(memory, MEMORY, "memory")}`,
        check(fqdn, FQDN, "instance name"),
      ],
      false,
    );
  }

  /** Ganeti waits timeoutSec for an ACPI shutdown, then kills the VM (0: at once). */
  async shutdown(fqdn: string, timeoutSec: number): Promise<void> {
    if (!Number.isInteger(timeoutSec) || timeoutSec < 0) {
      throw new BadInput(`invalid shutdown timeout: ${timeoutSec}`);
    }
    await this.exec(
      ["gnt-instance", "shutdown", `--timeout=${timeoutSec}`, check(fqdn, FQDN, "instance name")],
      false,
    );
  }

  /** Ganeti 3.0 has no --keep-disks: removing a plain instance also lvremoves its disks. */
  async remove(fqdn: string, onJob: OnJob = () => {}): Promise<void> {
    await this.runJob(["gnt-instance", "remove", "-f", check(fqdn, FQDN, "instance name")], onJob);
  }

  async listJobs(): Promise<GanetiJob[]> {
    const argv = ["gnt-job", "list", "--no-headers", `--separator=${LIST_SEPARATOR}`];
    return parseJobList((await this.exec([...argv, "-o", "id,status,summary"], true)).stdout);
  }

  /** The newest job not yet ended whose summary is OP(fqdn): found again after a crash. */
  async unfinishedJob(op: JobOp, fqdn: string): Promise<number | null> {
    const mine = (await this.listJobs()).filter(
      (j) =>
        j.summary.includes(`${op}(${fqdn})`) &&
        !(JOB_FINAL as readonly string[]).includes(j.status),
    );
    return mine.at(-1)?.id ?? null;
  }

  /**
   * Waits for a job to end: null if it succeeded, else its failure as Ganeti words it, with
   * `details.prerequisites` true when it stopped at its checks (it changed nothing). Throws only
   * when Ganeti cannot be asked.
   */
  async waitJob(
    jobId: number,
    argv: readonly string[] = ["gnt-job", "wait", String(jobId)],
  ): Promise<FarmError | null> {
    if (!Number.isInteger(jobId) || jobId < 0) throw new BadInput(`invalid job id: ${jobId}`);
    if (this.opts.dryRun) return null;
    const r = await this.runner.run(["gnt-job", "wait", String(jobId)], {
      readOnly: true, // waiting changes nothing
      allowFailure: true,
    });
    if (r.exitCode === 0) return null;
    const f = parseJobFailure(jobId, r.stderr);
    // Named after the command the job runs: that is what failed, in Ganeti's own words.
    const err = ganetiError({ ...r, argv, stderr: f.text });
    if (err.code === "unavailable") throw err;
    Object.assign(err.details!, { jobId, prerequisites: f.prerequisites });
    return err;
  }

  /** --submit --print-jobid: the id is handed to `onJob` (journaled) before the wait. */
  private async runJob(argv: string[], onJob: OnJob): Promise<void> {
    const [cmd, sub, ...rest] = argv;
    const r = await this.exec([cmd!, sub!, "--submit", "--print-jobid", ...rest], false);
    if (this.opts.dryRun) return;
    const jobId = parseJobId(r.stdout);
    onJob(jobId);
    const failed = await this.waitJob(jobId, argv);
    if (failed) throw failed;
  }

  private async exec(argv: string[], readOnly: boolean): Promise<RunResult> {
    const r = await this.runner.run(argv, { readOnly, allowFailure: true });
    if (r.exitCode !== 0) throw ganetiError(r);
    return r;
  }
}

/** Turns a failed gnt-* run into a FarmError, branching on Ganeti's error type code. */
/** A plain instance's disks: `info`'s logical_id (vg/lv) with `list`'s sizes. */
function diskLvs(inst: DiskOwner, info: InstanceInfo): InstanceDiskLv[] {
  const fqdn = inst.name;
  if (info.disks.length !== inst.diskSizesBytes.length) {
    throw unexpectedOutput(
      "gnt-instance info",
      `disk count of ${fqdn} differs from gnt-instance list`,
    );
  }
  return info.disks.map((d) => {
    if (d.type !== "plain") {
      throw new BadInput(
        `instance '${fqdn}' disk/${d.index} uses the '${d.type}' template, not 'plain'`,
        "farmctl only clones instances whose disks are plain LVM volumes",
      );
    }
    const m = /^([^/\s]+)\/([^/\s]+)$/.exec(d.logicalId ?? "");
    if (!m)
      throw unexpectedOutput("gnt-instance info", `bad logical_id of ${fqdn} disk/${d.index}`);
    const sizeBytes = inst.diskSizesBytes[d.index];
    if (sizeBytes === undefined) {
      throw unexpectedOutput("gnt-instance info", `no size for ${fqdn} disk/${d.index}`);
    }
    return { index: d.index, vg: m[1]!, lv: m[2]!, sizeBytes };
  });
}

export function ganetiError(r: RunResult): FarmError {
  const f = parseGanetiFailure(r.stderr);
  const details = { argv: [...r.argv], exitCode: r.exitCode, ganetiErrorType: f.errorType };
  if (f.masterTimeout) {
    return new Unavailable(
      "Ganeti's master daemon did not answer",
      "check that ganeti-luxid and ganeti-wconfd run on the master (`gnt-cluster verify`)",
      details,
    );
  }
  const what = `${r.argv.slice(0, 2).join(" ")}: ${f.details}`;
  switch (f.errorType) {
    case "unknown_entity":
      return new NotFound(what, "`gnt-instance list` shows the instances", details);
    case "already_exists":
    case "resource_not_unique":
      return new AlreadyExists(what, "pick another name or MAC address", details);
    case "resolver_error":
      return new BadInput(
        what,
        "Ganeti needs the instance name to resolve: add it to DNS first",
        details,
      );
    case "wrong_input":
      // On a host that is not (or no longer) a Ganeti node, nothing farmctl asks can work.
      if (f.details.startsWith("Cluster not initialized")) {
        return new Unavailable(
          what,
          "run farmctl on the Ganeti master node (`gnt-cluster info`)",
          details,
        );
      }
      // start/shutdown of an unknown instance reports an empty selection, not unknown_entity
      if (f.details.startsWith("Selection filter does not match any instances")) {
        return new NotFound(what, "`gnt-instance list` shows the instances", details);
      }
      return new BadInput(what, undefined, details);
    default:
      return new CommandFailed(r.argv, r.exitCode, r.stderr, r.stdout);
  }
}
export { parseFarmTags, farmTags, type FarmTags } from "./ganeti-tags.js";
