// Fake QEMU monitor sockets for unit tests: they answer with bytes recorded from a real QEMU
// (test/recordings/qemu-*), sent in small chunks so readers meet split escapes and lines.
import { createServer, type Server, type Socket } from "node:net";
import { recording } from "./scripted-runner.js";

export { recording };

/** A recorded HMP session split where QEMU first waits for input. */
export function splitHmp(raw: string): { greeting: string; reply: string } {
  const at = raw.indexOf("(qemu) ") + "(qemu) ".length;
  return { greeting: raw.slice(0, at), reply: raw.slice(at) };
}

export interface FakeServer {
  path: string;
  /** Every command line the fake received. */
  received: string[];
  /** Connections the client has closed. */
  closed: number;
  close(): Promise<void>;
}

async function writeChunked(sock: Socket, text: string, size = 7): Promise<void> {
  for (let i = 0; i < text.length && !sock.destroyed; i += size) {
    sock.write(text.slice(i, i + size));
    await new Promise((r) => setImmediate(r));
  }
}

async function serve(
  path: string,
  greeting: string | null,
  answer: (line: string) => string | null,
): Promise<FakeServer> {
  const fake: FakeServer = { path, received: [], closed: 0, close: async () => {} };
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => {
      sockets.delete(sock);
      fake.closed++;
    });
    sock.on("error", () => {});
    let buf = "";
    // Replies go out in order, one after the other, like QEMU's single monitor thread.
    let queue = greeting === null ? Promise.resolve() : writeChunked(sock, greeting);
    sock.on("data", (d: Buffer) => {
      buf += d.toString("utf8");
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        fake.received.push(line);
        const out = answer(line);
        if (out !== null) queue = queue.then(() => writeChunked(sock, out));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, resolve);
  });
  fake.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return fake;
}

/** An HMP monitor: `answer` gets the command line, returns what QEMU sends after it. */
export function fakeHmp(
  path: string,
  answer: (command: string) => string | null,
  greeting = splitHmp(recording("qemu-7.2-hmp-info-balloon.txt")).greeting,
): Promise<FakeServer> {
  return serve(path, greeting, answer);
}

/** The recorded HMP reply to `info balloon`, echo and prompt included, saying `actual=<mib>`. */
export function hmpInfoBalloonReply(mib: number): string {
  return splitHmp(recording("qemu-7.2-hmp-info-balloon.txt")).reply.replace(
    "actual=512",
    `actual=${mib}`,
  );
}

/** The recorded echo of `balloon 256`, retyped for another value. */
export function hmpBalloonReply(mib: number): string {
  return splitHmp(recording("qemu-7.2-hmp-balloon.txt")).reply.replaceAll("256", String(mib));
}

type QmpRequest = { execute: string; arguments?: Record<string, unknown>; id?: unknown };

/** A QMP monitor: `answer` returns the messages to send (events first, reply last, id added). */
export function fakeQmp(
  path: string,
  answer: (req: QmpRequest) => object[],
  greeting = recording("qemu-7.2-qmp-balloon.txt").split("\n")[0] + "\n",
): Promise<FakeServer> {
  return serve(path, greeting, (line) => {
    const req = JSON.parse(line) as QmpRequest;
    const msgs = answer(req);
    const last = msgs.length - 1;
    return msgs
      .map((m, i) => JSON.stringify(i === last && req.id !== undefined ? { ...m, id: req.id } : m))
      .map((s) => `${s}\r\n`)
      .join("");
  });
}

/** A server that accepts and never says a word. */
export function silentServer(path: string): Promise<FakeServer> {
  return serve(path, null, () => null);
}
