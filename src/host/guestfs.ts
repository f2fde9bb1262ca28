// libguestfs through guestfish, for the customize step: one appliance launch per session
// (guestfish-session.ts), and the appliance built once into [guest] cache_dir (prepare).
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BadInput, CommandFailed, FarmError, OperationFailed, Unavailable } from "../api/errors.js";
import type { GuestPort, GuestSession } from "../ops/ports.js";
import { GuestfishSession, makeWorkDir, type ServerProcesses } from "./guestfs-session.js";
import { childrenOf, killLeftover, processArgv, waitGone } from "./process.js";
import type { Runner } from "./runner.js";
import { findExecutable } from "./which.js";

export interface GuestfsOptions {
  runner: Runner;
  /** [guest] backend, backend_settings, cache_dir, timeout_ms. */
  backend: string;
  backendSettings: string[];
  cacheDir: string;
  timeoutMs: number;
  /** Where sessions make their private directory; default the system's temp dir. */
  tmpDir?: string;
  /** Where supermin looks for the appliance's kernel (vmlinuz-*). */
  bootDir?: string;
  /** Whether a program is on PATH; tests give a stand-in. */
  which?: (name: string) => string | null;
  processes?: ServerProcesses;
  exitWaitMs?: number;
}

const realProcesses: ServerProcesses = {
  childrenOf,
  waitGone,
  killLeftover: (pid, words) => killLeftover(pid, words),
  argvOf: processArgv,
};

/** A disk guestfish -a takes as a plain file: no URI (nbd://...), no option-like name. */
const DEVICE = /^\/[A-Za-z0-9._+/-]+$/;
const LISTENING = /^GUESTFISH_PID=(\d+); export GUESTFISH_PID$/m;

export class Guestfs implements GuestPort {
  constructor(private readonly o: GuestfsOptions) {}

  /**
   * What guestfish needs to find its backend and its cached appliance; its temporary files go in
   * `tmp`, a directory farmd removes itself: a guestfish killed by PID cannot clean up its own.
   */
  env(tmp: string): Record<string, string> {
    return {
      LIBGUESTFS_BACKEND: this.o.backend,
      LIBGUESTFS_BACKEND_SETTINGS: this.o.backendSettings.join(":"),
      LIBGUESTFS_CACHEDIR: this.o.cacheDir,
      TMPDIR: tmp,
    };
  }

  async open(device: string, onPid?: (pid: number) => void): Promise<GuestSession> {
    if (!DEVICE.test(device) || device.split("/").includes(".."))
      throw new BadInput(`guest disk '${device}' must be an absolute path of plain characters`);
    this.preflight();
    const workDir = makeWorkDir(this.o.tmpDir ?? tmpdir());
    const serverLog = join(workDir, "guestfish.log");
    const started = Date.now();
    let session: GuestfishSession | undefined;
    try {
      const argv = ["guestfish", "--listen", "--rw", "--format=raw", "-a", device];
      const listen = await this.o.runner.run(argv, {
        env: this.env(workDir),
        stderrFile: serverLog,
        timeoutMs: this.o.timeoutMs,
        allowFailure: true,
      });
      if (listen.exitCode !== 0)
        throw new CommandFailed(argv, listen.exitCode, readText(serverLog), listen.stdout);
      const pid = Number(LISTENING.exec(listen.stdout)?.[1]);
      if (!pid)
        throw new OperationFailed(
          `guestfish --listen on ${device} printed no GUESTFISH_PID`,
          `its output was: ${listen.stdout.trim() || "(nothing)"}`,
        );
      onPid?.(pid);
      session = new GuestfishSession({
        runner: this.o.runner,
        env: this.env(workDir),
        workDir,
        serverLog,
        pid,
        deadline: started + this.o.timeoutMs,
        processes: this.o.processes ?? realProcesses,
        exitWaitMs: this.o.exitWaitMs ?? 30_000,
      });
      await session.launch();
      return session;
    } catch (e) {
      await session?.close().catch(() => {}); // the launch error is the one to report
      rmSync(workDir, { recursive: true, force: true });
      throw explainLaunch(e);
    }
  }

  /** `signal`: farmd stopping kills the build's guestfish. */
  async prepare({
    reuse = false,
    signal,
  }: { reuse?: boolean; signal?: AbortSignal } = {}): Promise<{
    ms: number;
    cached: boolean;
  }> {
    const started = Date.now();
    this.preflight();
    mkdirSync(this.o.cacheDir, { recursive: true, mode: 0o700 });
    const cached = ["kernel", "initrd", "root"].every((f) =>
      existsSync(join(this.applianceDir(), f)),
    );
    if (cached && reuse) return { ms: Date.now() - started, cached };
    const workDir = makeWorkDir(this.o.tmpDir ?? tmpdir());
    try {
      // An appliance with no disk: supermin builds it (or finds it current) in the cache.
      await this.o.runner.run(["guestfish", "--ro", "-a", "/dev/null", "run"], {
        env: this.env(workDir),
        timeoutMs: this.o.timeoutMs,
        signal,
      });
    } catch (e) {
      throw explainLaunch(e);
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
    return { ms: Date.now() - started, cached };
  }

  /** supermin's output: <cache_dir>/.guestfs-<uid>/appliance.d/{kernel,initrd,root}. */
  applianceDir(): string {
    return join(this.o.cacheDir, `.guestfs-${process.getuid?.() ?? 0}`, "appliance.d");
  }

  /** The two packages libguestfs needs, named before anything starts. */
  private preflight(): void {
    if (!(this.o.which ?? findExecutable)("guestfish"))
      throw new Unavailable(
        "guestfish is not installed: the customize step needs libguestfs",
        "apt-get install libguestfs-tools (or skip the step: --no-customize)",
      );
    mkdirSync(this.o.cacheDir, { recursive: true, mode: 0o700 });
    if (!process.env.SUPERMIN_KERNEL && !hasKernel(this.o.bootDir ?? "/boot"))
      throw noKernel(`no /boot/vmlinuz-* for libguestfs' appliance`);
  }
}

function hasKernel(bootDir: string): boolean {
  try {
    return readdirSync(bootDir).some((f) => f.startsWith("vmlinuz-"));
  } catch {
    return false;
  }
}

function noKernel(message: string): Unavailable {
  return new Unavailable(
    message,
    "libguestfs boots the host's kernel: apt-get install linux-image-amd64; " +
      "libguestfs-test-tool shows the details",
  );
}

/** A launch that failed in supermin is almost always a missing or unreadable kernel. */
function explainLaunch(e: unknown): unknown {
  if (e instanceof CommandFailed && /supermin exited with error/.test(e.stderr))
    return noKernel(`libguestfs could not build its appliance: ${firstLine(e.stderr)}`);
  if (e instanceof FarmError && e.code === "unavailable" && /guestfish/.test(e.message))
    return new Unavailable(e.message, "apt-get install libguestfs-tools");
  return e;
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
