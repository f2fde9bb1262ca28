// The one way farmctl runs an external command: an argv array, never a shell string.
import { execa } from "execa";
import { closeSync, openSync } from "node:fs";
import { CommandFailed, Unavailable } from "../api/errors.js";

export interface RunOptions {
  /** Query that changes nothing on the host: the dry-run runner still executes it. */
  readOnly?: boolean;
  /** Return the result instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Called with each stderr chunk as it arrives (dd progress). */
  onStderr?: (chunk: string) => void;
  signal?: AbortSignal;
  /** Called with the child's PID once it runs (the copy journals it, to kill a dd farmd left). */
  onSpawn?: (pid: number) => void;
  /**
   * Wraps the spawn itself (synchronous: nothing else runs in between): the copy throttle puts
   * farmd's thread in dd's cgroup for the fork, so dd is born in it.
   */
  aroundSpawn?: <T>(spawn: () => T) => T;
  /**
   * Appends stderr to this file (created 0600) instead of capturing it, and gives no stdin: a
   * server the command leaves behind (guestfish --listen) keeps them, and a pipe would never end.
   */
  stderrFile?: string;
}

export interface RunResult {
  argv: readonly string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  run(argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** Set last, so a caller's env cannot bring the host's locale back. */
export const TOOL_LOCALE = { LC_ALL: "C" } as const;

export class ExecaRunner implements Runner {
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const [file, ...args] = argv;
    if (!file) throw new Error("empty argv");
    const stderrFd =
      opts.stderrFile === undefined ? undefined : openSync(opts.stderrFile, "a", 0o600);
    try {
      return await this.spawn(file, args, argv, opts, stderrFd);
    } finally {
      if (stderrFd !== undefined) closeSync(stderrFd);
    }
  }

  private async spawn(
    file: string,
    args: string[],
    argv: readonly string[],
    opts: RunOptions,
    stderrFd: number | undefined,
  ): Promise<RunResult> {
    const start = () =>
      execa(file, args, {
        reject: false,
        input: opts.input,
        // execa hands any fd to spawn as is; its types only list 3 to 9.
        ...(stderrFd === undefined ? {} : { stdin: "ignore" as const, stderr: stderrFd as 3 }),
        // Every tool speaks C: parsers read English messages and "." decimals whatever the host's locale.
        env: { ...opts.env, ...TOOL_LOCALE },
        timeout: opts.timeoutMs,
        cancelSignal: opts.signal,
        stripFinalNewline: false,
        encoding: "utf8",
      });
    const child = opts.aroundSpawn ? opts.aroundSpawn(start) : start();
    if (child.pid !== undefined) opts.onSpawn?.(child.pid);
    if (opts.onStderr) child.stderr?.on("data", (b: Buffer) => opts.onStderr?.(b.toString("utf8")));
    const r = await child;
    if ((r as { code?: string }).code === "ENOENT") {
      throw new Unavailable(
        `command not found: ${file}`,
        `install the package that provides '${file}'`,
      );
    }
    const result: RunResult = {
      argv,
      exitCode: r.exitCode ?? -1,
      stdout: String(r.stdout ?? ""),
      stderr: String(r.stderr ?? ""),
    };
    if (result.exitCode !== 0 && !opts.allowFailure) {
      throw new CommandFailed(argv, r.exitCode, result.stderr, result.stdout);
    }
    return result;
  }
}

/** Runs read-only queries for real and reports every other command instead of running it. */
export class DryRunRunner implements Runner {
  readonly skipped: string[][] = [];
  constructor(
    private readonly real: Runner,
    private readonly report: (argv: readonly string[]) => void = () => {},
  ) {}

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (opts.readOnly) return this.real.run(argv, opts);
    this.skipped.push([...argv]);
    this.report(argv);
    return { argv, exitCode: 0, stdout: "", stderr: "" };
  }
}
