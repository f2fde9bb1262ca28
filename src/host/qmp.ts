// QEMU's machine protocol (QMP), the `<instance>.qmp` socket of Ganeti 3.1: one JSON object per
// line; asynchronous events (BALLOON_CHANGE...) may arrive between a command and its reply.
import { OperationFailed } from "../api/errors.js";
import { withUnixSocket, type Match, type SocketIO } from "./monitor-socket.js";

export type QmpMessage = Record<string, unknown>;

export type QmpReply =
  { ok: true; value: unknown } | { ok: false; errorClass: string; desc: string };

/** The next complete message of the stream; blank lines are skipped. */
export function matchQmpMessage(unread: string): Match<QmpMessage> | undefined {
  let start = 0;
  for (;;) {
    const nl = unread.indexOf("\n", start);
    if (nl < 0) return undefined;
    const line = unread.slice(start, nl).trim();
    if (line !== "") return { value: parseLine(line), used: nl + 1 };
    start = nl + 1;
  }
}

function parseLine(line: string): QmpMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw notQmp(line);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw notQmp(line);
  return parsed as QmpMessage;
}

function notQmp(line: string): OperationFailed {
  return new OperationFailed(
    `not a QMP message: ${line.slice(0, 120)}`,
    "is this the instance's .qmp socket (and not its .monitor)?",
    { line },
  );
}

/** Every complete message of a recorded stream, events included. */
export function parseQmpStream(text: string): QmpMessage[] {
  const out: QmpMessage[] = [];
  let rest = text;
  for (let m = matchQmpMessage(rest); m; m = matchQmpMessage(rest)) {
    out.push(m.value);
    rest = rest.slice(m.used);
  }
  return out;
}

export const isEvent = (m: QmpMessage): boolean => typeof m.event === "string";

/** The reply to a command, success or error; undefined for events and the greeting. */
export function toReply(m: QmpMessage): QmpReply | undefined {
  if ("return" in m) return { ok: true, value: m.return };
  const err = m.error;
  if (typeof err === "object" && err !== null) {
    const e = err as Record<string, unknown>;
    return { ok: false, errorClass: String(e.class ?? "GenericError"), desc: String(e.desc ?? "") };
  }
  return undefined;
}

/** `query-balloon` returns `{"actual": bytes}`. */
export function balloonActual(value: unknown): number {
  const actual = (value as { actual?: unknown } | null)?.actual;
  if (typeof actual !== "number" || !Number.isSafeInteger(actual)) {
    throw new OperationFailed(`query-balloon: unexpected reply ${JSON.stringify(value)}`);
  }
  return actual;
}

async function call(io: SocketIO, execute: string, args: unknown, id: string): Promise<QmpReply> {
  io.write(
    `${JSON.stringify(args === undefined ? { execute, id } : { execute, arguments: args, id })}\n`,
  );
  for (;;) {
    const m = await io.read(matchQmpMessage);
    if (isEvent(m) || m.id !== id) continue; // events are not replies
    const reply = toReply(m);
    if (reply) return reply;
  }
}

/** Greeting, capabilities negotiation, then one command; its reply, events skipped. */
export async function qmpExecute(
  path: string,
  execute: string,
  args: unknown,
  timeoutMs: number,
): Promise<QmpReply> {
  return withUnixSocket(path, timeoutMs, async (io) => {
    const greeting = await io.read(matchQmpMessage);
    if (!("QMP" in greeting)) throw notQmp(JSON.stringify(greeting));
    const caps = await call(io, "qmp_capabilities", undefined, "farm-caps");
    if (!caps.ok) throw new OperationFailed(`qmp_capabilities refused: ${caps.desc}`);
    return call(io, execute, args, "farm-cmd");
  });
}
