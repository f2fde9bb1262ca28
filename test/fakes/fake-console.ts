// A guest console for the saga tests: what each instance prints after it starts, fed to the
// reader line by line as a serial console would; a text that never satisfies it is a timeout.
import type { ConsolePort } from "../../src/ops/ports.js";

export class FakeConsole implements ConsolePort {
  /** Instance → what its guest prints once started. */
  readonly printed = new Map<string, string>();
  readonly calls: { instance: string; timeoutMs: number }[] = [];

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
    return null;
  }
}
