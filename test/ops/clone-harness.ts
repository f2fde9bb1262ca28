// A copy of host01's config files in a temp dir, the simulated LVM/Ganeti runner, and the real
// families, adapters and saga wired as the engine does.
import {
  cpSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OpEvent } from "../../src/api/events.js";
import type { CloneRequest, CloneResult } from "../../src/api/clone.js";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { buildHost } from "../../src/daemon/host.js";
import { records } from "../../src/host/confedit/zone-parse.js";
import type { DestroyRequest, DestroyResult } from "../../src/api/destroy.js";
import type { CloneDeps } from "../../src/ops/clone/steps.js";
import { cloneKind, destroyKind, type Kind } from "../../src/daemon/kinds.js";
import { runSaga } from "../../src/ops/saga.js";
import type { MonitorPort } from "../../src/ops/ports.js";
import { openDb, type Db } from "../../src/state/db.js";
import { Inventory } from "../../src/state/inventory.js";
import { Journal } from "../../src/state/journal.js";
import { FakeHostRunner } from "../fakes/fake-host-runner.js";
import { debianGuest, FakeGuest } from "../fakes/fake-guest.js";
import { FakeConsole } from "../fakes/fake-console.js";
import { firstBootIdentity as parseFirstboot } from "../../src/ops/guest/firstboot.js";

const FIXTURE = new URL("../fixtures/host01/etc", import.meta.url).pathname;
const RECORDINGS = new URL("../recordings/", import.meta.url).pathname;
/** A first boot's console: ssh-keygen 9.2 -lf of `ssh-keygen -A`'s keys in cloud-init's block. */
export const FIRSTBOOT = readFileSync(
  join(RECORDINGS, "ssh-keygen-9.2-firstboot-console.txt"),
  "utf8",
);
/** /proc/net/tcp{,6} as captured on a real host (listeners on 2024, 8080, 22009, 22010). */
export const procNet = async (path: string) =>
  readFileSync(
    join(RECORDINGS, `${path.replace("/proc/net/", "proc-net-")}-6.18-listen.txt`),
    "utf8",
  );

/** The files with the zone's SOA serial masked: it goes up on every edit, undo included. */
export function withoutSerial(files: Map<string, string>): Map<string, string> {
  return new Map(
    [...files].map(([p, t]) => [
      p,
      p.endsWith("db.farm") ? t.replace(/\d{10}(\s*; Serial)/, "SERIAL$1") : t,
    ]),
  );
}

/** The zone's SOA serial in a snapshot. */
export function zoneSerial(files: Map<string, string>): number {
  const zone = [...files].find(([p]) => p.endsWith("db.farm"))![1];
  return Number(/(\d{10})\s*; Serial/.exec(zone)![1]);
}

/** The four families' sections over a copy of host01's etc/ under `root` (reloads simulated). */
export function familiesToml(root: string, firewallExtra = ""): string {
  const etc = (p: string) => join(root, "etc", p);
  return `[dns]
zone_file = "${etc("bind/db.farm")}"
reload = ["reload-dns"]
[dhcp]
config = "${etc("dhcp/dhcpd.conf")}"
reload = ["reload-dhcp"]
[firewall]
rules = "${etc("shorewall/rules")}"
params = "${etc("shorewall/params")}"
${firewallExtra}
reload = ["reload-firewall"]
[proxy]
sites_available = "${etc("nginx/sites-available")}"
sites_enabled = "${etc("nginx/sites-enabled")}"
reload = ["reload-proxy"]`;
}

export interface Harness {
  root: string;
  config: Config;
  runner: FakeHostRunner;
  resolve: (name: string) => Promise<string[]>;
  events: OpEvent[];
  monitor: MonitorPort & { calls: [string, number][] };
  /** libguestfs, simulated: the new disk gallifrey-dev holds gallifrey's Debian guest. */
  guest: FakeGuest;
  /** Every started guest prints FIRSTBOOT unless `console.printed` says otherwise. */
  console: FakeConsole;
  db: Db;
  inventory: Inventory;
  journal: Journal;
  clone(req: Partial<CloneRequest>, opts?: { dryRun?: boolean }): Promise<CloneResult>;
  destroy(req: DestroyRequest, opts?: { dryRun?: boolean }): Promise<DestroyResult>;
  /** The real adapters over the simulated host, as farmd wires them. */
  deps(): CloneDeps & { journal: Journal };
  /** Every file and symlink under etc/, for byte-identity checks. */
  snapshot(): Map<string, string>;
  cleanup(): void;
}

/** `withGuest: false`: a farmd without a libguestfs adapter; `templatesDir`: the admin's overrides. */
export function harness(
  extraToml = "",
  { withGuest = true, templatesDir }: { withGuest?: boolean; templatesDir?: string } = {},
): Harness {
  const root = mkdtempSync(join(tmpdir(), "farm-saga-"));
  cpSync(FIXTURE, join(root, "etc"), { recursive: true, verbatimSymlinks: true });
  const etc = (p: string) => join(root, "etc", p);
  const config = parseConfig(
    `state_dir = "${root}/state"
${templatesDir ? `templates_dir = "${templatesDir}"` : ""}
${familiesToml(root)}
${extraToml}`,
    "test.toml",
  );
  const runner = new FakeHostRunner();
  const events: OpEvent[] = [];
  // Resolves the way named would: from the zone file as it is on disk now.
  const resolve = async (name: string) =>
    records(readFileSync(config.dns.zone_file, "utf8"), "farm")
      .filter((r) => r.type === "A" && r.owner === name)
      .map((r) => r.rdata[0]!);
  const calls: [string, number][] = [];
  // A monitor socket exists while the simulated instance runs; the guest reaches every target.
  const balloons = new Map<string, number>();
  const monitor = {
    calls,
    protocolFor: (instance: string) =>
      runner.instances.get(instance)?.status === "running" ? ("hmp" as const) : null,
    async queryBalloon(instance: string) {
      const inst = runner.instances.get(instance);
      return balloons.get(instance) ?? (inst ? inst.memoryMiB * 2 ** 20 : null);
    },
    async balloonAndWait(instance: string, target: number) {
      calls.push([instance, target]);
      balloons.set(instance, target);
      return { reachedBytes: target, reached: true };
    },
  };
  const guest = new FakeGuest();
  guest.disks.set("/dev/all/gallifrey-dev", debianGuest());
  // Ganeti renames the adopted LV: its files go with it, as on the real disk.
  runner.onRename = (from, to) => {
    const fs = guest.disks.get(`/dev/all/${from}`);
    if (!fs) return;
    guest.disks.delete(`/dev/all/${from}`);
    guest.disks.set(`/dev/all/${to}`, fs);
  };
  const console = new FakeConsole(FIRSTBOOT);
  const db = openDb(join(root, "state"));
  const inventory = new Inventory(db);
  const journal = new Journal(db);
  /** The real adapters over the simulated host, wired as farmd wires them. */
  const depsFor = (dryRun: boolean) => {
    const sink = (e: OpEvent) => events.push(e);
    const host = buildHost(config, {
      dryRun,
      events: sink,
      stateDir: join(root, "state"),
      runner,
      resolve,
      procNet,
    });
    const findExecutable = (t: string) => `/usr/bin/${t}`;
    return {
      config,
      ...host,
      monitor,
      guest: withGuest ? guest : undefined,
      console,
      parseFirstboot,
      inventory,
      journal,
      findExecutable,
      events: sink,
      dryRun,
    };
  };
  /** An operation run the way farmd runs it (its kind's steps and result), without the daemon. */
  async function run<Req extends object, Ctx, R>(
    kind: Kind<Req, Ctx>,
    req: Req,
    dryRun = false,
  ): Promise<R> {
    const deps = depsFor(dryRun);
    const opId = journal.createOperation(kind.name, kind.target(req), { ...req } as Record<
      string,
      unknown
    >);
    const ctx = kind.ctx(opId, req, deps);
    // As farmd: a dry run plans one step at a time, a real run runs the graph's branches at once.
    await runSaga(kind.steps(), ctx, { opId, journal, events: deps.events, sequential: dryRun });
    return kind.result(ctx) as R;
  }
  return {
    root,
    config,
    resolve,
    runner,
    events,
    monitor,
    guest,
    console,
    db,
    inventory,
    journal,
    clone: (req, opts = {}) =>
      run(cloneKind, { source: "gallifrey", name: "gallifrey-dev", ...req }, opts.dryRun),
    deps: () => depsFor(false),
    destroy: (req, opts = {}) => run(destroyKind, req, opts.dryRun),
    snapshot() {
      const out = new Map<string, string>();
      const walk = (dir: string) => {
        for (const f of readdirSync(dir).sort()) {
          const p = join(dir, f);
          const st = lstatSync(p);
          if (st.isSymbolicLink()) out.set(p, `-> ${readlinkSync(p)}`);
          else if (st.isDirectory()) walk(p);
          else out.set(p, readFileSync(p, "utf8"));
        }
      };
      walk(join(root, "etc"));
      return out;
    },
    cleanup() {
      db.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Waits for a state of the simulated host; no deadline of its own (a loaded machine is slow). */
export const until = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 10));
};

/** The adapters a farmd over the harness uses in place of the real ones (monitor, libguestfs, console). */
export function simulatedDeps(h: Harness) {
  return {
    monitor: h.monitor,
    guest: h.guest,
    console: h.console,
    findExecutable: (t: string) => `/usr/bin/${t}`,
  };
}
