// One short, bounded conversation over a unix socket: QEMU's monitors serve one client at a
// time, so every exchange connects, talks, and closes, and never outlives its deadline.
import { createConnection } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { Unavailable } from "../api/errors.js";

/** What a reader found in the unread text, and how many characters of it were used. */
export interface Match<T> {
  value: T;
  used: number;
}

export interface SocketIO {
  write(text: string): void;
  /** Waits until `match` recognises the unread text; the used part is dropped. */
  read<T>(match: (unread: string) => Match<T> | undefined): Promise<T>;
}

// sun_path is 108 bytes with its terminating NUL; longer paths fail with a misleading ENOENT.
export const MAX_SOCKET_PATH = 107;

/** Runs `talk` on a connection to `path`; the socket is closed when it returns, throws or times out. */
export async function withUnixSocket<T>(
  path: string,
  timeoutMs: number,
  talk: (io: SocketIO) => Promise<T>,
): Promise<T> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Unavailable(
      `socket path is too long for a unix socket (${Buffer.byteLength(path)} > ${MAX_SOCKET_PATH} bytes): ${path}`,
      "use a shorter monitor_dir or instance name",
      { socket: path },
    );
  }
  const sock = createConnection({ path });
  const decoder = new StringDecoder("utf8");
  let unread = "";
  let connected = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const fail = (err: Error): void => {
    failure ??= err;
    wake?.();
  };
  sock.on("connect", () => {
    connected = true;
    wake?.();
  });
  sock.on("data", (chunk: Buffer) => {
    unread += decoder.write(chunk);
    wake?.();
  });
  sock.on("error", (err: NodeJS.ErrnoException) => fail(connectError(path, err)));
  sock.on("close", () =>
    fail(
      new Unavailable(`${path}: QEMU closed the connection before answering`, undefined, {
        socket: path,
        received: unread.slice(-500),
      }),
    ),
  );
  const timer = setTimeout(
    () =>
      fail(
        new Unavailable(
          `${path}: no answer within ${timeoutMs} ms`,
          "QEMU's monitor serves one client at a time: another client (Ganeti, a socat left open) may hold it; retry",
          { socket: path, timeoutMs, received: unread.slice(-500) },
        ),
      ),
    timeoutMs,
  );

  // The condition is checked before the failure, so data that arrived before a close still counts.
  const until = async (ready: () => boolean): Promise<void> => {
    while (!ready()) {
      if (failure) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  };
  const io: SocketIO = {
    write: (text) => {
      sock.write(text);
    },
    read: async <R>(match: (unread: string) => Match<R> | undefined): Promise<R> => {
      let hit: Match<R> | undefined;
      await until(() => (hit = match(unread)) !== undefined);
      if (!hit) throw new Error("unreachable: read resolved without a match");
      unread = unread.slice(hit.used);
      return hit.value;
    },
  };

  try {
    await until(() => connected);
    return await talk(io);
  } finally {
    clearTimeout(timer);
    sock.destroy();
  }
}

function connectError(path: string, err: NodeJS.ErrnoException): Unavailable {
  const details = { socket: path, errno: err.code };
  switch (err.code) {
    case "ENOENT":
      return new Unavailable(
        `monitor socket ${path} does not exist`,
        "is the instance running (gnt-instance list)? is [ganeti] monitor_dir in farmd.toml the hypervisor's control directory?",
        details,
      );
    case "ECONNREFUSED":
      return new Unavailable(
        `nothing answers on ${path}`,
        "the socket is left over from a QEMU that has stopped: is the instance running (gnt-instance list)?",
        details,
      );
    case "EACCES":
    case "EPERM":
      return new Unavailable(
        `no permission to open ${path}`,
        "run farmd as root: the hypervisor's sockets belong to root",
        details,
      );
    default:
      return new Unavailable(`cannot talk to ${path}: ${err.message}`, undefined, details);
  }
}
