// The crash matrix's bench: a farmd of the test's own (its own state dir and socket) that a cell
// restarts with FARMD_TEST_CRASH_AT armed, drives into its SIGKILL, and restarts clean to recover;
// and the heavier reset that puts the host back when a cell left a mess.
import { readFileSync, statSync } from "node:fs";
import { expect } from "vitest";
import type { FarmdProcess, Testbed } from "../testbed/testbed.js";
import {
  configTexts,
  farmctl,
  farmdConfig,
  retry,
  writeInside,
  zoneSerial,
  ZONE,
} from "../e2e/helpers.js";
import { differences, fingerprint, watchedProcesses, type Fingerprint } from "./shared.js";

export interface OpView {
  operation: { id: string; kind: string; state: string; error: unknown };
  steps: { seq: number; name: string; state: string; error: string | null }[];
}

/** States an operation can still leave on its own. */
const LIVE = ["queued", "running", "recovering"];

export class CrashBench {
  farmd: FarmdProcess | null = null;
  /** How long the last crash's phases took, to keep the matrix fast. */
  laps = "";
  readonly stateDir: string;
  readonly socket = "/run/farmd/rel-crash.sock";
  private config = "";

  constructor(readonly tb: Testbed) {
    this.stateDir = `${tb.dir}/state-rel-crash`;
  }

  private get log(): string {
    return `${this.tb.dir}/log/farmd-rel-crash.log`;
  }

  async setUp(): Promise<void> {
    this.config = await farmdConfig(this.tb, "rel-crash", {
      stateDir: this.stateDir,
      socket: this.socket,
    });
    await this.restart();
  }

  /** Stops our farmd (SIGTERM by its PID) and starts it again, armed when `crashAt` is given. */
  async restart(crashAt?: string): Promise<FarmdProcess> {
    await this.stop();
    const env: Record<string, string> = crashAt ? { FARMD_TEST_CRASH_AT: crashAt } : {};
    this.farmd = await this.tb.spawnFarmd(this.config, { env });
    return this.farmd;
  }

  async stop(): Promise<void> {
    const f = this.farmd;
    this.farmd = null;
    if (!f || f.exit) return;
    process.kill(f.pid, "SIGTERM");
    await f.exited;
  }

  /** farmctl on our farmd; a clone on a loaded machine may take many minutes. */
  farmctl(args: string[]) {
    return farmctl(this.tb, [...args, "--config", this.config], 900_000);
  }

  /** farmd's API straight through curl (a farmctl per check would cost a node start each). */
  private async api<T>(path: string, post?: object): Promise<T> {
    const body = post
      ? ["-X", "POST", "-H", "content-type: application/json", "-d", JSON.stringify(post)]
      : [];
    // prettier-ignore
    const out = await this.tb.run([
      "curl", "-sf", "--max-time", "60", ...body, "--unix-socket", this.socket, `http://farmd${path}`,
    ], { timeoutMs: 90_000 });
    return JSON.parse(out) as T;
  }

  async opIds(): Promise<string[]> {
    const r = await this.api<{ operations: { id: string }[] }>("/v1/operations");
    return r.operations.map((o) => o.id);
  }

  op(id: string): Promise<OpView> {
    return this.api<OpView>(`/v1/operations/${id}`);
  }

  /** Polls the operation until it is in a final state (rolled back, failed, succeeded). */
  settled(id: string): Promise<OpView> {
    return retry(
      `operation ${id} settles`,
      300_000,
      async () => {
        const v = await this.op(id);
        return LIVE.includes(v.operation.state) ? null : v;
      },
      250,
    );
  }

  /**
   * Runs `farmctl args` on a farmd armed at `crashAt`, waits for farmd's SIGKILL there, restarts
   * farmd without the hook and returns the operation once its recovery settled.
   */
  async crash(crashAt: string, args: string[]): Promise<OpView> {
    const lap = stopwatch();
    const known = new Set(await this.opIds());
    const logFrom = statSync(this.log).size;
    const armed = await this.restart(crashAt);
    lap("armed farmd up");
    const cli = this.farmctl(args);
    const first = await Promise.race([armed.exited.then(() => null), cli]);
    if (first?.exitCode === 0)
      throw new Error(`farmctl ${args.join(" ")} succeeded: ${crashAt} was never reached`);
    // The CLI lost farmd: its SIGKILL is on its way, if the hook fired.
    const exit = await retry(`farmd killed at ${crashAt}`, 30_000, async () => armed.exit, 100);
    const log = readFileSync(this.log, "utf8").slice(logFrom);
    expect(exit, log).toEqual({ exitCode: null, signal: "SIGKILL" });
    expect(log).toContain(`crash hook firing: ${crashAt}`);
    await cli;
    lap("killed");
    this.farmd = await this.tb.spawnFarmd(this.config);
    lap("farmd up again");
    const ids = (await this.opIds()).filter((id) => !known.has(id));
    expect(ids, `operations made by ${args.join(" ")}`).toHaveLength(1);
    const v = await this.settled(ids[0]!);
    lap("recovered");
    this.laps = lap.laps;
    return v;
  }

  /** What `farmctl list` shows: name and origin of each VM. */
  async listed(): Promise<string[][]> {
    const r = await this.api<{ vms: { name: string; origin: string }[] }>("/v1/vms");
    return r.vms.map((v) => [v.name, v.origin]);
  }

  /** What `farmctl audit` reports: nothing. */
  async expectAuditClean(): Promise<void> {
    const r = await this.api<{ clean: boolean; findings: unknown[] }>("/v1/audit", { fix: false });
    expect(r.findings).toEqual([]);
    expect(r.clean).toBe(true);
  }
}

/** The host as it was, with what the heavier reset needs to put it back. */
export interface Baseline {
  fp: Fingerprint;
  texts: Map<string, string>;
  links: Map<string, string>;
}

export async function baseline(tb: Testbed): Promise<Baseline> {
  const fp = await fingerprint(tb);
  const links = new Map<string, string>();
  for (const [path, v] of Object.entries(fp.files))
    if (v.startsWith("link -> ")) links.set(path, v.slice("link -> ".length));
  return { fp, texts: await configTexts(tb), links };
}

/**
 * The heavier reset, after a cell whose recovery left something behind: our farmd stopped and
 * its state wiped, instances, LVs and copies that were not there removed, config files written
 * back (the zone with a serial above the one served), services reloaded, farmd started again.
 * Throws if the host still differs from `base`.
 */
export async function restoreHost(bench: CrashBench, base: Baseline): Promise<void> {
  const { tb } = bench;
  await bench.stop();
  for (const pid of leftoverCopies(tb)) process.kill(pid, "SIGKILL");
  const now = await fingerprint(tb);
  for (const line of now.instances.filter((i) => !base.fp.instances.includes(i))) {
    const name = line.split(" ")[0]!;
    // A job farmd started may still run on it: Ganeti queues the removal after it.
    await tb.exec(["gnt-instance", "remove", "-f", "--shutdown-timeout=0", name], {
      timeoutMs: 300_000,
    });
  }
  for (const line of (await fingerprint(tb)).lvs.filter((l) => !base.fp.lvs.includes(l)))
    await tb.exec(["lvremove", "-f", `all/${line.split(" ")[0]}`]);
  await restoreFiles(tb, base);
  await tb.run(["rm", "-rf", bench.stateDir]);
  await bench.restart();
  const left = differences(base.fp, await fingerprint(tb));
  if (left.length) throw new Error(`the heavier reset left the host changed:\n${left.join("\n")}`);
}

async function restoreFiles(tb: Testbed, base: Baseline): Promise<void> {
  const now = await configTexts(tb);
  for (const [path, text] of base.texts) {
    const current = now.get(path);
    if (current === text) continue;
    const served = current && path === ZONE ? zoneSerial(current) : 0;
    const restored =
      path === ZONE && served >= zoneSerial(text)
        ? text.replace(/^(\s*)\d+(\s*;\s*Serial)/m, `$1${served + 1}$2`)
        : text;
    await writeInside(tb, path, restored);
  }
  for (const [path, target] of base.links) await tb.run(["ln", "-sfn", target, path]);
  for (const path of Object.keys((await fingerprint(tb)).files))
    if (!base.texts.has(path) && !base.links.has(path)) await tb.run(["rm", "-f", path]);
  // The services reload as farmd's own config says.
  const toml = tb.readFile("/etc/farmd/farmd.toml");
  for (const m of toml.matchAll(/^reload = (\[.*\])$/gm))
    await tb.exec(JSON.parse(m[1]!) as string[], { timeoutMs: 120_000 });
}

/** PIDs of dd processes in host01 (a copy left by a killed farmd). */
function leftoverCopies(tb: Testbed): number[] {
  return watchedProcesses(tb)
    .filter((p) => p.comm === "dd")
    .map((p) => p.pid);
}

/** lap(what) notes the time since the previous lap; .laps lists them. */
function stopwatch(): ((what: string) => void) & { laps: string } {
  let t = Date.now();
  const lap = Object.assign(
    (what: string) => {
      lap.laps += `${lap.laps ? ", " : ""}${what} +${((Date.now() - t) / 1000).toFixed(1)}s`;
      t = Date.now();
    },
    { laps: "" },
  );
  return lap;
}
