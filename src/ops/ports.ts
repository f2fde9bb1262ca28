// What ops needs from the outside world: narrow interfaces that host adapters satisfy.
import type { FarmError } from "../api/errors.js";
import type { CopyReport } from "../api/clone.js";
import type { EventSink } from "../api/events.js";
import type { JobOp, OnJob } from "../host/ganeti.js";
import type { VmEntry } from "../host/confedit/entry.js";
import type { Revert } from "../host/families/edit.js";
import type { Inspection } from "../host/families/lines.js";
import type { CreateOpts, LvOwner, RemoveOpts } from "../host/lvm.js";
import type { ThinRow as ThinInfo } from "../host/lvm-thin.js";

export type { Inspection };

export interface LvInfo {
  vg: string;
  name: string;
  uuid: string;
  sizeBytes: number;
  origin: string | null;
  /** A snapshot's fill in percent (lvs data_percent); null for plain volumes. */
  dataPercent?: number | null;
  /** LVM tags; farmd_op_<id> names the operation that made it. */
  tags?: string[];
}

export interface LvmPort {
  list(vg: string): Promise<LvInfo[]>;
  vgInfo(vg: string): Promise<{ sizeBytes: number; freeBytes: number }>;
  createSnapshot(
    vg: string,
    origin: string,
    name: string,
    sizeBytes: number,
    opts?: CreateOpts,
  ): Promise<LvInfo>;
  create(vg: string, name: string, sizeBytes: number, opts?: CreateOpts): Promise<LvInfo>;
  removeChecked(
    vg: string,
    name: string,
    owner: string | LvOwner,
    opts?: RemoveOpts,
  ): Promise<unknown>;
  devicePath(vg: string, name: string): string;
  /** Every LV's segtype, pool and fill (lvmthin(7)): which are thin, and how full their pools are. */
  thinReport(vg: string): Promise<ThinInfo[]>;
  /** A thin snapshot of vg/origin (no size, no copy), read back for its UUID. */
  createThinSnapshot(vg: string, origin: string, name: string, opts?: CreateOpts): Promise<LvInfo>;
  /** A thin LV of `sizeBytes` in vg/pool, read back for its UUID. */
  createThin(
    vg: string,
    pool: string,
    name: string,
    sizeBytes: number,
    opts?: CreateOpts,
  ): Promise<LvInfo>;
  /** Activates vg/name, ignoring a thin snapshot's activation-skip flag. */
  activate(vg: string, name: string): Promise<void>;
}

/** An LV's thin facts (lvs segtype, pool_lv, data_percent, metadata_percent). */
export type { ThinRow as ThinInfo } from "../host/lvm-thin.js";

export interface InstanceInfo {
  name: string;
  status: string;
  diskTemplate: string;
  nicIps: (string | null)[];
  nicMacs: string[];
  memoryBytes: number | null;
  /** One size per disk, in list order (disk/0 first). */
  diskSizesBytes: number[];
}

/** An LV of a node as Ganeti sees it, with the instance its config gives it to (null: none). */
export interface VolumeInfo {
  node: string;
  vg: string;
  name: string;
  instance: string | null;
}

export interface AddInstance {
  fqdn: string;
  node: string;
  memory: string;
  os: string;
  lvName: string;
  mac: string;
  /** A farm member's farmctl:farm:/farmctl:member: tags (issue 10). */
  tags?: readonly string[];
}

export interface GanetiPort {
  listInstances(): Promise<InstanceInfo[]>;
  /** Every instance's tags, in one list call: fqdn -> tags. */
  instanceTags(): Promise<Map<string, string[]>>;
  instanceDisks(fqdn: string): Promise<{ vg: string; lv: string; sizeBytes: number }[]>;
  /** The disks of several listed instances in one query; plain ones only (others absent). */
  disksOf(
    instances: readonly InstanceInfo[],
  ): Promise<Map<string, { vg: string; lv: string; sizeBytes: number }[]>>;
  /** Every node's LVs with their instance, in one cluster-wide query. */
  volumes(): Promise<VolumeInfo[]>;
  /** Add and remove run as Ganeti jobs: `onJob` gets the job's id (to journal) before the wait. */
  add(p: AddInstance, onJob?: OnJob): Promise<void>;
  start(fqdn: string): Promise<void>;
  /** `gnt-instance modify -B memory=`: takes effect when Ganeti next starts the instance. */
  setMemory(fqdn: string, memory: string): Promise<void>;
  /** Waits up to timeoutSec for the guest to power off, then Ganeti stops it (0: at once). */
  shutdown(fqdn: string, timeoutSec: number): Promise<void>;
  remove(fqdn: string, onJob?: OnJob): Promise<void>;
  /** Null when the job succeeded, else its failure (`details.prerequisites`: it changed nothing). */
  waitJob(jobId: number): Promise<FarmError | null>;
  /** A job OP(fqdn) still queued or running (after a crash, when its id was never journaled). */
  unfinishedJob(op: JobOp, fqdn: string): Promise<number | null>;
}

export interface BalloonResult {
  reachedBytes: number | null;
  reached: boolean;
  warning?: string;
}

export interface MonitorPort {
  /** Which monitor socket the running instance has, or null (not running, or wrong monitor_dir). */
  protocolFor(instance: string): "hmp" | "qmp" | null;
  /** What the guest holds now, in bytes; null without a balloon device. */
  queryBalloon(instance: string): Promise<number | null>;
  balloonAndWait(
    instance: string,
    targetBytes: number,
    opts: {
      timeoutMs: number;
      /** Each reading of the wait: what the guest holds now (null: none). */
      onProgress?: (p: BalloonReading) => void;
    },
  ): Promise<BalloonResult>;
}

/** One reading of a balloon wait: the target, what the guest held before and holds now. */
export interface BalloonReading {
  targetBytes: number;
  startBytes: number;
  actualBytes: number | null;
  elapsedMs: number;
}

/** The guest's serial console: Ganeti's `<monitor_dir>/<instance>.serial` (issue 9). */
export interface ConsolePort {
  /**
   * Reads what the guest prints from now on (the console keeps no history) until `done` returns
   * non-null for the text seen so far (carriage returns removed); null after `timeoutMs`.
   * Disconnects at once either way: the console serves one client at a time. Rejects with the
   * signal's reason when `signal` aborts.
   */
  readUntil<T>(
    instance: string,
    done: (text: string) => T | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T | null>;
}

/** How one copy runs, beyond farmd.toml's [copy] settings. */
export interface CopyOptions {
  /** Skip writing all-zero blocks (dd conv=sparse): only for a new thin LV, which reads as zeros. */
  sparse?: boolean;
  /** Write limit in bytes/s for this copy (--bwlimit); 0: none; absent: [copy] bwlimit. */
  bwlimit?: number;
}

export interface CopyPort {
  /** `signal` aborts the copy (cancel, farmd stopping); `onSpawn` gets dd's PID. */
  copy(
    src: string,
    dst: string,
    totalBytes: number,
    events: EventSink,
    signal?: AbortSignal,
    onSpawn?: (pid: number) => void,
    options?: CopyOptions,
  ): Promise<CopyReport | null>;
}

/** Processes an operation may have left running when farmd died. */
export interface ProcessPort {
  /** Kills `pid` only if its argv still contains each of `mustContain`; true if it did. */
  killLeftover(pid: number, mustContain: string[]): Promise<boolean>;
}

/** How an add is undone: opaque to ops, journaled with the step. */
export type RevertData = Revert;

/** One config-file family (zone, dhcpd, shorewall, nginx): find, add, remove a VM's entry. */
export interface EntryFamily {
  readonly label: string;
  /** Every file the family touches, for plans and byte-identity checks. */
  readonly paths: string[];
  has(entry: VmEntry): Promise<boolean>;
  /** Validates with the service's checker, puts in place, records how to revert, reloads; a no-op when already there. */
  add(entry: VmEntry, record: (revert: RevertData) => void): Promise<void>;
  /** Takes the VM's entry out (destroy), recording how to put it back; a no-op when absent. */
  remove(entry: VmEntry, record?: (revert: RevertData) => void): Promise<void>;
  /** Undoes remove: the exact previous bytes if nobody touched the file since, else add again. */
  restore(entry: VmEntry, data: RevertData | undefined): Promise<void>;
  /** Undoes add: the exact previous bytes if nobody touched the file since, else remove. */
  revert(entry: VmEntry, data: RevertData | undefined): Promise<void>;
  inspect(entry: VmEntry): Promise<Inspection>;
  /** inspect() of each entry, in order, from one read of the family's files. */
  inspectAll(entries: readonly VmEntry[]): Promise<Inspection[]>;
  /** farmctl import: the VM's hand-written lines, unchanged, inside farmctl's markers. */
  adopt(entry: VmEntry, record: (revert: RevertData) => void): Promise<void>;
  /** Undoes adopt: the exact previous bytes; never removes the VM's lines. */
  unadopt(entry: VmEntry, data: RevertData | undefined): Promise<void>;
  /** The instance names of every farmctl block in the family's files. */
  blockNames(): Promise<string[]>;
}

/** What the files already hold: hand-made VMs count as much as farmctl's. */
export interface FamilyUsage {
  ips: string[];
  macs: string[];
  ports: number[];
  names: string[];
}

export interface Families {
  dns: EntryFamily & {
    usage(): Promise<FamilyUsage>;
    waitResolves(entry: VmEntry): Promise<boolean>;
    /** Absolute owner name → its A record addresses. */
    addresses(): Promise<Map<string, string[]>>;
  };
  dhcp: EntryFamily & {
    usage(): Promise<FamilyUsage>;
    hosts(): Promise<{ name: string; mac?: string; ip?: string }[]>;
  };
  firewall: EntryFamily & {
    usage(): Promise<FamilyUsage>;
    dnatPorts(): Promise<number[]>;
    /** Each port a rule opens on the host (by port or by macro, like SSH(ACCEPT)) → the rule. */
    portHolders(): Promise<Map<number, string>>;
    /** Each address a shorewall param names → the param. */
    paramAddresses(): Promise<Map<string, string>>;
  };
  proxy: EntryFamily & {
    usage(): Promise<FamilyUsage>;
    /** Each name a site file takes or serves → that file. */
    sites(): Promise<Map<string, string>>;
  };
}

/** A Linux guest that libguestfs found on a disk (issue 9). */
export interface GuestOs {
  /** The root filesystem's device inside the appliance (/dev/sda1). */
  root: string;
  /** inspect-get-type / inspect-get-distro: "linux" / "debian". */
  type: string;
  distro: string;
  /** The hostname inspection read from the guest, null when it has none. */
  hostname: string | null;
}

/** One change made inside the guest's filesystem; paths are absolute and validated by ops. */
export type GuestEdit =
  | { op: "write"; path: string; content: string; mode: number; uid: number; gid: number }
  /** A file, or every file matching a glob (/etc/ssh/ssh_host_*); nothing there is fine. */
  | { op: "delete"; path: string }
  /** Empties the file when it exists (systemd makes a new machine-id at first boot). */
  | { op: "truncate"; path: string }
  | { op: "mkdir"; path: string; mode: number }
  | { op: "symlink"; target: string; path: string };

/** One libguestfs appliance on one disk: inspect, read, then apply every edit. */
export interface GuestSession {
  /** Null when no Linux operating system was found (the step is then skipped with a warning). */
  inspect(): Promise<GuestOs | null>;
  readFile(path: string): Promise<string | null>;
  apply(edits: GuestEdit[]): Promise<void>;
  /** Unmounts, syncs and ends the appliance; safe to call twice. */
  close(): Promise<void>;
}

export interface GuestPort {
  /** Opens `device` read-write; `onPid` journals the process holding it, for crash recovery. */
  open(device: string, onPid?: (pid: number) => void): Promise<GuestSession>;
  /**
   * Builds (or finds cached) libguestfs' appliance, so clones do not pay for it. `reuse`: one
   * already in the cache is taken as it is, without the launch that checks it (each session's
   * launch checks it anyway, and under TCG that launch is most of the cost).
   */
  prepare(opts?: {
    reuse?: boolean;
    signal?: AbortSignal;
  }): Promise<{ ms: number; cached: boolean }>;
}

/** nunjucks templates by name: the admin's override dir first, then the built-in templates/. */
export interface TemplatePort {
  /** A missing template, a syntax error or an undefined name throws (a ConfigError). */
  render(name: string, context: object): string;
}
