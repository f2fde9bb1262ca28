// farmd's API server: HTTP/1.1 on a unix socket, JSON bodies, NDJSON event streams.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { asFarmError, BadInput, NotFound } from "../api/errors.js";
import type { OpEvent } from "../api/events.js";
import type { z } from "zod";
import {
  auditBody,
  balloonBody,
  cloneBody,
  destroyBody,
  httpStatus,
  importBody,
  fixBody,
  ROUTES,
} from "../api/routes.js";
import { balloonVm } from "../ops/inventory/balloon.js";
import { listVms, showVm } from "../ops/inventory/view.js";
import { cloneKind, destroyKind, fixKind, importKind, type Kind } from "./kinds.js";
import type { Operations } from "./operations.js";

const MAX_BODY = 64 * 1024;

/** The routes that start an operation, with the body each takes. */
const STARTS: Record<
  string,
  {
    kind: Kind<any, unknown>;
    body: typeof cloneBody | typeof destroyBody | typeof importBody | typeof fixBody;
  }
> = {
  [ROUTES.clone]: { kind: cloneKind, body: cloneBody },
  [ROUTES.destroy]: { kind: destroyKind, body: destroyBody },
  [ROUTES.import]: { kind: importKind, body: importBody },
  [ROUTES.fix]: { kind: fixKind, body: fixBody },
};

function parse<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new BadInput(
      `invalid ${what}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadInput("request body too large");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
  } catch {
    throw new BadInput("request body is not JSON");
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body) + "\n");
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = asFarmError(err);
  if (res.headersSent) {
    res.end(JSON.stringify({ type: "end", state: "failed", error: e.toJSON() }) + "\n");
    return;
  }
  send(res, httpStatus(e.code), { error: e.toJSON() });
}

function ndjson(res: ServerResponse): (e: unknown) => void {
  res.writeHead(200, { "content-type": "application/x-ndjson" });
  // A follower that went away (Ctrl-C) is no error: its writes are dropped.
  return (e) => {
    if (!res.writableEnded && !res.destroyed) res.write(JSON.stringify(e) + "\n");
  };
}

/** Replays an operation's stored events after `after`, then (follow) streams live ones to its end. */
function streamEvents(
  ops: Operations,
  id: string,
  after: number,
  follow: boolean,
  res: ServerResponse,
): void {
  ops.get(id);
  const write = ndjson(res);
  let last = after;
  const emit = (seq: number, event: unknown) => {
    if (seq <= last || res.writableEnded) return;
    last = seq;
    write({ seq, ...(event as object) });
    if ((event as OpEvent).type === "end") res.end();
  };
  // Subscribe first, then replay: an event arriving in between is deduplicated by its seq.
  const live = follow && ops.isRunning(id);
  const unsubscribe = live ? ops.subscribe(id, emit) : () => {};
  res.on("close", unsubscribe);
  const stored = ops.journal.events(id, after);
  for (const [i, { seq, event }] of stored.entries()) {
    // An interrupted run's "end" is not the end once the operation was resumed.
    const superseded = (event as OpEvent).type === "end" && (live || i < stored.length - 1);
    if (!superseded) emit(seq, event);
  }
  if (!res.writableEnded && !live) res.end();
}

export function apiServer(ops: Operations): Server {
  return createServer((req, res) => {
    handle(ops, req, res).catch((err: unknown) => sendError(res, err));
  });
}

async function handle(ops: Operations, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://farmd");
  const path = url.pathname;
  const m = /^\/v1\/operations\/([^/]+)(?:\/(events|cancel|resume))?$/.exec(path);
  if (req.method === "GET" && path === ROUTES.health)
    return send(res, 200, { ok: true, pid: process.pid });
  const starting = req.method === "POST" ? STARTS[path] : undefined;
  if (starting) {
    const { dryRun, request } = parse(
      starting.body as z.ZodType<{ dryRun: boolean; request: object }>,
      await readJson(req),
      `${starting.kind.name} request`,
    );
    if (!dryRun) return send(res, 202, { opId: ops.start(starting.kind, request) });
    // A plan: bad input is answered with 400 before the stream starts; nothing is journaled.
    starting.kind.check(request, ops.config);
    const write = ndjson(res);
    try {
      const result = await ops.plan(starting.kind, request, write);
      write({ type: "end", opId: null, state: "planned", result });
    } catch (err) {
      write({ type: "end", opId: null, state: "failed", error: asFarmError(err).toJSON() });
    }
    return void res.end();
  }
  const vm = /^\/v1\/vms\/([^/]+)(\/balloon)?$/.exec(path);
  if (req.method === "GET" && path === ROUTES.vms)
    return send(res, 200, { vms: await listVms(ops.viewDeps()) });
  if (req.method === "GET" && vm && !vm[2])
    return send(res, 200, await showVm(ops.viewDeps(), decodeURIComponent(vm[1]!)));
  if (req.method === "POST" && vm?.[2]) {
    const { size } = parse(balloonBody, await readJson(req), "balloon request");
    return send(res, 200, await balloonVm(ops.viewDeps(), decodeURIComponent(vm[1]!), size));
  }
  if (req.method === "POST" && path === ROUTES.audit) {
    const { fix } = parse(auditBody, await readJson(req), "audit request");
    return send(res, 200, await ops.audit(fix));
  }
  if (req.method === "GET" && path === ROUTES.operations)
    return send(res, 200, { operations: ops.journal.list() });
  if (m) {
    const id = decodeURIComponent(m[1]!);
    if (req.method === "GET" && !m[2])
      return send(res, 200, { operation: ops.get(id), steps: ops.journal.steps(id) });
    if (req.method === "GET" && m[2] === "events") {
      return streamEvents(
        ops,
        id,
        Number(url.searchParams.get("after") ?? -1),
        url.searchParams.get("follow") === "1",
        res,
      );
    }
    if (req.method === "POST" && m[2] === "cancel") {
      ops.cancel(id).catch(() => {}); // the client follows the rollback through the events
      return send(res, 202, { opId: id });
    }
    if (req.method === "POST" && m[2] === "resume") {
      ops.resume(id);
      return send(res, 202, { opId: id });
    }
  }
  throw new NotFound(`no route ${req.method} ${path}`, "see farmd(8) for the API");
}
