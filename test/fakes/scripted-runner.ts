// A Runner for unit tests: each expected call is scripted in order; an unexpected call fails the
// test, and so does a call left over (`assertDone`).
import { readFileSync } from "node:fs";
import { CommandFailed, FarmError } from "../../src/api/errors.js";
import type { RunOptions, RunResult, Runner } from "../../src/host/runner.js";

export interface Expectation {
  /** Exact argv, or a predicate on it. */
  argv: readonly string[] | ((argv: readonly string[]) => boolean);
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Side effect when the call happens (write a file, emit progress). */
  effect?: (argv: readonly string[], opts: RunOptions) => void | Promise<void>;
}

export class ScriptedRunner implements Runner {
  readonly calls: string[][] = [];
  private queue: Expectation[];

  constructor(expectations: Expectation[] = []) {
    this.queue = [...expectations];
  }

  expect(...e: Expectation[]): this {
    this.queue.push(...e);
    return this;
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...argv]);
    const next = this.queue.shift();
    const matches =
      next &&
      (typeof next.argv === "function"
        ? next.argv(argv)
        : JSON.stringify(next.argv) === JSON.stringify(argv));
    if (!next || !matches) {
      const wanted = next
        ? typeof next.argv === "function"
          ? "<predicate>"
          : next.argv.join(" ")
        : "nothing";
      throw new Error(`unexpected command: ${argv.join(" ")}\n  expected: ${wanted}`);
    }
    await next.effect?.(argv, opts);
    if (next.stderr && opts.onStderr) opts.onStderr(next.stderr);
    const result = {
      argv,
      exitCode: next.exitCode ?? 0,
      stdout: next.stdout ?? "",
      stderr: next.stderr ?? "",
    };
    if (result.exitCode !== 0 && !opts.allowFailure) {
      throw new CommandFailed(argv, result.exitCode, result.stderr, result.stdout);
    }
    return result;
  }

  assertDone(): void {
    if (this.queue.length) {
      const left = this.queue.map((e) =>
        typeof e.argv === "function" ? "<predicate>" : e.argv.join(" "),
      );
      throw new Error(`commands expected but never run:\n  ${left.join("\n  ")}`);
    }
  }
}

/** Output captured from a real tool, stored under test/recordings/. */
export function recording(name: string): string {
  return readFileSync(new URL(`../recordings/${name}`, import.meta.url), "utf8");
}

/** The FarmError a promise rejects with (fails the test if it resolves or throws anything else). */
export async function failure(p: Promise<unknown>): Promise<FarmError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof FarmError)) throw new Error(`expected a FarmError, got ${String(err)}`);
  return err;
}
