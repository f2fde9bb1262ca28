// farmd's API socket spoken to directly from outside host01 (through its holder's root), raw: any
// method, path and body bytes, and a guard that stops and cleans up an operation farmd accepted.
import { execa } from "execa";
import { request } from "node:http";
import type { OperationRecord } from "../../src/api/operations.js";
import type { Testbed } from "../testbed/testbed.js";

export const SOCKET = "/run/farmd/farmd.sock";
export const FINAL = new Set(["succeeded", "failed", "rolled-back", "interrupted"]);

/** The answer, its body parsed when it is JSON (json is null for an NDJSON stream or text). */
function toReply(status: number, body: string): Reply {
  try {
    return { status, body, json: JSON.parse(body) };
  } catch {
    return { status, body, json: null };
  }
}

export interface Reply {
  status: number;
  body: string;
  /** The parsed body, or null when it is not JSON. */
  json: any;
}

/** One small request (a huge body goes through curl, below). */
export function api(
  tb: Testbed,
  method: string,
  path: string,
  body?: string | Buffer,
  socket = SOCKET,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let reply: Reply | null = null;
    const req = request(
      {
        socketPath: tb.path(socket),
        method,
        path,
        headers: { "content-type": "application/json", connection: "close" },
        timeout: 300_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          reply = toReply(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
          resolve(reply);
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer in 300 s`)));
    req.on("error", (err) => (reply ? resolve(reply) : reject(err)));
    req.end(body);
  });
}

export async function health(tb: Testbed, socket = SOCKET): Promise<{ ok: boolean; pid: number }> {
  const r = await api(tb, "GET", "/v1/health", undefined, socket);
  if (r.status !== 200) throw new Error(`/v1/health answered ${r.status}: ${r.body}`);
  return r.json;
}

export async function operations(tb: Testbed, socket = SOCKET): Promise<OperationRecord[]> {
  return (await api(tb, "GET", "/v1/operations", undefined, socket)).json.operations;
}

export async function operation(tb: Testbed, id: string, socket = SOCKET) {
  const r = await api(tb, "GET", `/v1/operations/${encodeURIComponent(id)}`, undefined, socket);
  return r.json as { operation: OperationRecord; steps: { name: string; state: string }[] };
}

/** Polls until the operation is final; returns its record. */
export async function settled(
  tb: Testbed,
  id: string,
  socket = SOCKET,
  timeoutMs = 600_000,
): Promise<OperationRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { operation: op } = await operation(tb, id, socket);
    if (FINAL.has(op.state)) return op;
    if (Date.now() > deadline)
      throw new Error(`operation ${id} still ${op.state} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Runs `fn` while watching for operations it makes: one that gets past its preflight is cancelled
 * at once (hostile input must never become a change), each is waited for, and a clone that still
 * succeeded is destroyed. Returns fn's value and the operations it caused, as they ended.
 */
export async function guarded<T>(
  tb: Testbed,
  fn: () => Promise<T>,
  socket = SOCKET,
): Promise<{ value: T; ops: OperationRecord[] }> {
  const known = new Set((await operations(tb, socket)).map((o) => o.id));
  const cancelled = new Set<string>();
  let done = false;
  // Watches until fn has returned and every operation it made has ended.
  const watch = async () => {
    for (;;) {
      const mine = (await operations(tb, socket)).filter((o) => !known.has(o.id));
      const open = mine.filter((o) => !FINAL.has(o.state));
      if (done && open.length === 0) return mine;
      for (const op of open.filter((o) => !cancelled.has(o.id))) {
        const { steps } = await operation(tb, op.id, socket);
        if (steps.some((s) => s.name !== "preflight")) {
          cancelled.add(op.id);
          await api(tb, "POST", `/v1/operations/${op.id}/cancel`, undefined, socket);
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const watching = watch();
  let value: T;
  try {
    value = await fn();
  } finally {
    done = true;
  }
  const ops = await watching;
  for (const end of ops) {
    if (end.kind === "clone" && end.state === "succeeded") {
      const body = JSON.stringify({ request: { name: end.target, force: true } });
      const d = await api(tb, "POST", "/v1/destroy", body, socket);
      if (d.status === 202) await settled(tb, d.json.opId, socket);
    }
  }
  return { value, ops };
}

/**
 * The same request sent by curl from outside, which reads the answer while it still sends: a
 * server that refuses a huge body answers early and closes, and Node's client then sees EPIPE.
 */
export async function curl(
  tb: Testbed,
  method: string,
  path: string,
  body?: string | Buffer,
  socket = SOCKET,
): Promise<Reply> {
  // prettier-ignore
  const r = await execa("curl", [
    "-sS", "--path-as-is", "--max-time", "60", "--unix-socket", tb.path(socket), "-X", method,
    "-H", "content-type: application/json", ...(body === undefined ? [] : ["--data-binary", "@-"]),
    "-w", "\n%{http_code}", `http://farmd${path}`,
  ], { input: body === undefined ? undefined : Buffer.from(body), reject: false, stripFinalNewline: false, encoding: "utf8" });
  const at = r.stdout.lastIndexOf("\n");
  const text = r.stdout.slice(0, Math.max(at, 0));
  return toReply(Number(r.stdout.slice(at + 1)) || 0, text || r.stderr);
}
