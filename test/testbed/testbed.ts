// The farm testbed (testbed.sh) from vitest: up/down with cleanup registered, commands run inside
// host01.farm or the "internet" namespace, files read as host01 sees them.
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from "node:fs";
import { basename, join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll } from "vitest";

const SCRIPT = join(import.meta.dirname, "testbed.sh");
const PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Result {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A farmd started by this process (spawnFarmd): its PID, and how it ended once it has. */
export interface FarmdProcess {
  pid: number;
  socket: string;
  exited: Promise<{ exitCode: number | null; signal: NodeJS.Signals | null }>;
  /** Set once it has exited (and was reaped by this process). */
  exit: { exitCode: number | null; signal: NodeJS.Signals | null } | null;
}

/** Why the testbed cannot run here, or null when it can. */
export function unavailableReason(): string | null {
  if (process.getuid?.() !== 0) return "needs root (namespaces, loop devices, mounts)";
  if (!existsSync("/usr/sbin/gnt-cluster") && !existsSync("/usr/bin/gnt-cluster"))
    return "ganeti is not installed (bash test/install-deps.sh)";
  return null;
}

export class Testbed {
  private scratch: string | undefined;
  private isUp = false;
  private readonly onExit = () => this.downSync();

  constructor(dir?: string) {
    this.scratch = dir;
  }

  /** The scratch dir; by default a fresh one, so a demo testbed in /tmp/farm-testbed is left alone. */
  get dir(): string {
    this.scratch ??= mkdtempSync("/tmp/farm-e2e-");
    return this.scratch;
  }

  private env() {
    return { ...process.env, FARM_TESTBED_DIR: this.dir };
  }

  /** Brings the testbed up; testbed.sh itself tears a half-made one down if this fails. */
  async up(): Promise<void> {
    process.once("exit", this.onExit);
    this.isUp = true;
    const r = await execa("bash", [SCRIPT, "up"], {
      env: this.env(),
      reject: false,
      all: true,
      timeout: 600_000,
    });
    if (r.exitCode !== 0) throw new Error(`testbed.sh up failed (exit ${r.exitCode}):\n${r.all}`);
  }

  async down(): Promise<void> {
    if (!this.isUp) return;
    const r = await execa("bash", [SCRIPT, "down"], {
      env: this.env(),
      reject: false,
      all: true,
      timeout: 120_000,
    });
    this.isUp = false;
    process.off("exit", this.onExit);
    if (r.exitCode !== 0) throw new Error(`testbed.sh down failed (exit ${r.exitCode}):\n${r.all}`);
    // testbed.sh down removed it; this is for a testbed that never got its marker file.
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last resort when the test process exits without afterAll (e.g. a crash). */
  private downSync(): void {
    if (!this.isUp) return;
    this.isUp = false;
    spawnSync("bash", [SCRIPT, "down"], { env: this.env(), stdio: "inherit", timeout: 120_000 });
  }

  /** PID of host01.farm's namespace holder. */
  holder(): number {
    return Number(readFileSync(join(this.dir, "holder.pid"), "utf8").trim());
  }

  /** Runs argv inside host01.farm (clean environment, cwd /); never throws on exit codes. */
  async exec(argv: string[], o: { timeoutMs?: number; input?: string } = {}): Promise<Result> {
    // prettier-ignore
    const r = await execa("nsenter", [
      "-t", String(this.holder()), "-n", "-m", "-u", "--",
      "env", "-i", `PATH=${PATH}`, "HOME=/root", "LANG=C.UTF-8", "LVM_SUPPRESS_FD_WARNINGS=1",
      ...argv,
    ], { reject: false, timeout: o.timeoutMs ?? 60_000, input: o.input, stripFinalNewline: false });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** Like exec, but throws with the command's output unless it exits 0. */
  async run(argv: string[], o: { timeoutMs?: number; input?: string } = {}): Promise<string> {
    const r = await this.exec(argv, o);
    if (r.exitCode !== 0)
      throw new Error(`${argv.join(" ")} exited ${r.exitCode}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Runs argv in the "internet" namespace (198.51.100.1, the far end of host01's eth0). */
  async internet(argv: string[], o: { timeoutMs?: number } = {}): Promise<Result> {
    const pid = readFileSync(join(this.dir, "internet.pid"), "utf8").trim();
    const r = await execa("nsenter", ["-t", pid, "-n", "--", ...argv], {
      reject: false,
      timeout: o.timeoutMs ?? 30_000,
    });
    return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** A path of host01's filesystem, seen from outside through its holder's root. */
  path(inside: string): string {
    return join(`/proc/${this.holder()}/root`, inside);
  }

  readFile(inside: string): string {
    return readFileSync(this.path(inside), "utf8");
  }

  readlink(inside: string): string {
    return readlinkSync(this.path(inside));
  }

  /**
   * Starts a farmd inside for `config` (a path inside) as a child of this process, so that its
   * exit status is seen and it is reaped at once (a farmd killed by a test must not linger as a
   * zombie still holding its state lock's PID); resolves once it answers on its socket with its
   * own PID, i.e. after its crash recovery. Output goes to log/farmd-<config>.log. `env` adds
   * variables to its otherwise clean environment (e.g. FARMD_TEST_CRASH_AT). `program` (a path
   * inside, e.g. an installed /usr/sbin/farmd) runs instead of the checkout's dist/daemon/main.js.
   */
  async spawnFarmd(
    config: string,
    o: { timeoutMs?: number; env?: Record<string, string>; program?: string } = {},
  ): Promise<FarmdProcess> {
    const extraEnv = Object.entries(o.env ?? {}).map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`not an environment variable name: ${k}`);
      return `${k}=${v}`;
    });
    const socket =
      /^socket\s*=\s*"([^"]+)"/m.exec(this.readFile(config))?.[1] ?? "/run/farmd/farmd.sock";
    const log = openSync(join(this.dir, "log", `farmd-${basename(config, ".toml")}.log`), "a");
    const program = o.program
      ? [o.program]
      : [process.execPath, join(import.meta.dirname, "../../dist/daemon/main.js")];
    // nsenter and env exec: the child's PID is farmd's own.
    // prettier-ignore
    const child = spawn("nsenter", [
      "-t", String(this.holder()), "-n", "-m", "-u", "--",
      "env", "-i", `PATH=${PATH}`, "HOME=/root", "LANG=C.UTF-8", ...extraEnv,
      ...program, "--config", config,
    ], { stdio: ["ignore", log, log] });
    closeSync(log);
    const proc: FarmdProcess = {
      pid: child.pid ?? -1,
      socket,
      exit: null,
      exited: new Promise((resolve) => {
        child.once("exit", (exitCode, signal) => {
          proc.exit = { exitCode, signal };
          resolve(proc.exit);
        });
        // nsenter could not be started: no exit event will come
        child.once("error", () => {
          proc.exit ??= { exitCode: null, signal: null };
          resolve(proc.exit);
        });
      }),
    };
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    for (;;) {
      if (proc.exit)
        throw new Error(`farmd --config ${config} exited ${JSON.stringify(proc.exit)}`);
      // prettier-ignore
      const r = await this.exec([
        "curl", "-sf", "--max-time", "2", "--unix-socket", socket, "http://farmd/v1/health",
      ]);
      if (r.exitCode === 0 && JSON.parse(r.stdout).pid === proc.pid) return proc;
      if (Date.now() > deadline)
        throw new Error(`farmd --config ${config} does not answer on ${socket}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts another farmd inside for `config` (a path inside); returns its PID. */
  async startFarmd(config: string): Promise<number> {
    const r = await execa("bash", [SCRIPT, "farmd", config], {
      env: this.env(),
      reject: false,
      all: true,
    });
    if (r.exitCode !== 0) throw new Error(`starting farmd --config ${config} failed:\n${r.all}`);
    return Number(r.stdout.trim().split("\n").at(-1));
  }
}

/** A testbed brought up before the file's tests and torn down after them, even on failure. */
export function useTestbed(o: { upTimeoutMs?: number } = {}): Testbed {
  const tb = new Testbed();
  beforeAll(() => tb.up(), o.upTimeoutMs ?? 300_000);
  afterAll(() => tb.down(), 120_000);
  return tb;
}
