// A guest console for the saga tests: what each instance prints after it starts, fed to the
// reader line by line as a serial console would; a text that never satisfies it is a timeout.
import type { ConsolePort } from "../../src/ops/ports.js";

export class FakeConsole implements ConsolePort {
  /** Instance → what its guest prints once started. */
  readonly printed = new Map<string, string>();
  readonly calls: { instance: string; timeoutMs: number }[] = [];

  /** A guest that prints nothing more: the read waits for its abort (a timeout far away). */
  hang = false;
  /** Reads waiting on a hung guest now. */
  waiting = 0;

  /** `otherwise`: what an instance not in `printed` prints. */
  constructor(private readonly otherwise = "") {}

  async readUntil<T>(
    instance: string,
    done: (text: string) => T | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T | null> {
    this.calls.push({ instance, timeoutMs });
    let text = "";
    for (const line of (this.printed.get(instance) ?? this.otherwise).split(/(?<=\n)/)) {
      signal?.throwIfAborted();
      text += line.replace(/\r/g, "");
      const value = done(text);
      if (value !== null) return value;
    }
    if (!this.hang) return null;
    this.waiting++;
    try {
      return await new Promise<never>((_, reject) =>
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true }),
      );
    } finally {
      this.waiting--;
    }
  }
}
