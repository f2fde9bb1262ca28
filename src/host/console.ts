// Reads an instance's serial console: the unix socket QEMU serves for Ganeti (`-serial
// unix:<monitor_dir>/<instance>.serial,server,nowait`). It keeps no history and serves one client
// at a time, so a read connects, watches the text go by, and disconnects as soon as it has enough.
import { createConnection, type Socket } from "node:net";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { BadInput, Unavailable } from "../api/errors.js";
import type { ConsolePort } from "../ops/ports.js";
import { MAX_SOCKET_PATH } from "./monitor-socket.js";
import { INSTANCE } from "./monitor.js";

export interface SerialConsoleOptions {
  /** Ganeti's kvm control directory, e.g. /var/run/ganeti/kvm-hypervisor/ctrl. */
  monitorDir: string;
  /** Pause before connecting again when QEMU closed or refused the console (restart). */
  retryMs?: number;
  /** The text kept for `done`: its last characters, from a line start. */
  maxChars?: number;
}

export class SerialConsole implements ConsolePort {
  constructor(private readonly o: SerialConsoleOptions) {}

  socketPath(instance: string): string {
    if (!INSTANCE.test(instance))
      throw new BadInput(`'${instance}' is not a valid instance name`, "give the instance's FQDN");
    const path = join(this.o.monitorDir, `${instance}.serial`);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH)
      throw new Unavailable(
        `socket path is too long for a unix socket (${Buffer.byteLength(path)} > ${MAX_SOCKET_PATH} bytes): ${path}`,
        "use a shorter monitor_dir or instance name",
        { socket: path },
      );
    return path;
  }

  readUntil<T>(
    instance: string,
    done: (text: string) => T | null,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<T | null> {
    const path = this.socketPath(instance);
    const retryMs = this.o.retryMs ?? 250;
    const maxChars = this.o.maxChars ?? 256 * 1024;
    return new Promise<T | null>((resolve, reject) => {
      let text = "";
      let sock: Socket | undefined;
      let retry: NodeJS.Timeout | undefined;
      let settled = false;
      let connected = false;
      const finish = (err: unknown, value: T | null = null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(retry);
        sock?.destroy();
        signal?.removeEventListener("abort", onAbort);
        if (err) reject(err);
        else resolve(value);
      };
      const onAbort = () => finish(signal?.reason ?? new Error("aborted"));
      const timer = setTimeout(() => finish(undefined, null), timeoutMs);
      const connect = () => {
        const decoder = new StringDecoder("utf8");
        sock = createConnection({ path });
        sock.on("data", (chunk: Buffer) => {
          text += decoder.write(chunk).replace(/\r/g, "");
          if (text.length > maxChars) {
            const tail = text.slice(-maxChars);
            text = tail.slice(tail.indexOf("\n") + 1);
          }
          try {
            const value = done(text);
            if (value !== null) finish(undefined, value);
          } catch (err) {
            finish(err);
          }
        });
        sock.on("connect", () => (connected = true));
        sock.on("error", (err: NodeJS.ErrnoException) => {
          // Missing from the start: not a wait (QEMU makes it before Ganeti's start returns).
          if (err.code === "ENOENT" && !connected)
            finish(
              new Unavailable(
                `no serial console socket ${path}`,
                "is the instance running (gnt-instance list)? does Ganeti give it one (hypervisor parameter serial_console)? is [ganeti] monitor_dir the hypervisor's control directory?",
                { socket: path, errno: err.code },
              ),
            );
          // Refused, reset, or gone after a connection (QEMU restarting): the close handler retries.
          else if (err.code === "EACCES" || err.code === "EPERM")
            finish(
              new Unavailable(
                `no permission to open ${path}`,
                "run farmd as root: the hypervisor's sockets belong to root",
                { socket: path, errno: err.code },
              ),
            );
        });
        sock.on("close", () => {
          if (!settled) retry = setTimeout(connect, retryMs);
        });
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      connect();
    });
  }
}
