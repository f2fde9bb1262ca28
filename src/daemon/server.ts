// farmd's API server: HTTP/1.1 on a unix socket, JSON bodies, NDJSON event streams.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { asFarmError, BadInput, FarmError } from "../api/errors.js";
import type { Health } from "../api/health.js";
import { API_VERSION, API_VERSION_HEADER, VERSION, VERSION_HEADER } from "../api/version.js";
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
  CONTROL_CHAR,
} from "../api/routes.js";
import { balloonVm } from "../ops/inventory/balloon.js";
import { listVms, showVm } from "../ops/inventory/view.js";
import { cloneKind, destroyKind, fixKind, importKind, type Kind } from "./kinds.js";
import type { Operations } from "./operations.js";
import { bodyOf, readJsonBody } from "./body.js";
import { parseBody } from "./validate.js";
import { farmRoutes } from "./farm-routes.js";
import { caRoutes } from "./ca-routes.js";
import type { Ca } from "./ca/ca.js";
import { leaseRoutes } from "./lease-routes.js";
import { exact, type Call, type Identify, type Route } from "./route.js";
import { Forbidden, roleAtLeast, type Identity } from "../api/auth.js";
import { auditLogRoute, bodyTarget, noteAnswer } from "./audit-log.js";
import { authorizeAuditFix, authorizeBalloon, authorizeStart, checkOpOwner } from "./authz.js";

/** The routes that start an operation, with the body each takes. */
const STARTS: Record<
  string,
  {
    kind: Kind<any, { opId: string }>;
    body: typeof cloneBody | typeof destroyBody | typeof importBody | typeof fixBody;
  }
> = {
  [ROUTES.clone]: { kind: cloneKind, body: cloneBody },
  [ROUTES.destroy]: { kind: destroyKind, body: destroyBody },
  [ROUTES.import]: { kind: importKind, body: importBody },
  [ROUTES.fix]: { kind: fixKind, body: fixBody },
};

function send(res: ServerResponse, status: number, body: unknown): void {
  noteAnswer(res, status, body);
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

/** The API's request handler (its routes and the CA's), shared by the unix socket and the TLS listener. */
export function apiHandler(
  ops: Operations,
  identify: Identify,
  ca: Ca,
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = [...API, ...caRoutes(send, ca)];
  return (req, res) => {
    handle(routes, ops, identify, req, res).catch((err: unknown) => sendError(res, err));
  };
}

export function apiServer(ops: Operations, identify: Identify, ca: Ca): Server {
  return createServer(apiHandler(ops, identify, ca));
}

const VM = /^\/v1\/vms\/([^/]+)$/;
const OP = /^\/v1\/operations\/([^/]+)$/;
const opAction = (action: string) => new RegExp(`^\\/v1\\/operations\\/([^/]+)\\/${action}$`);

/** Starts an operation, or (dryRun) streams its plan. */
async function startOrPlan(call: Call): Promise<void> {
  const { ops, req, res, identity } = call;
  const starting = STARTS[call.url.pathname]!;
  const { dryRun, request } = parseBody(
    starting.body as z.ZodType<{ dryRun: boolean; request: object }>,
    await readJsonBody(req),
    `${starting.kind.name} request`,
  );
  // A plan is refused as the operation would be: an operator learns it before asking for it.
  authorizeStart(starting.kind.name, request, identity, ops);
  if (!dryRun)
    return send(res, 202, { opId: await ops.start(starting.kind, request, { identity }) });
  // A plan: a refusal (bad input, preflight) is answered with its 4xx before the stream starts.
  let write: ((e: unknown) => void) | undefined;
  const stream = (e: unknown) => (write ??= ndjson(res))(e);
  try {
    const result = await ops.plan(starting.kind, request, stream);
    stream({ type: "end", opId: null, state: "planned", result });
  } catch (err) {
    if (!write) throw err;
    write({ type: "end", opId: null, state: "failed", error: asFarmError(err).toJSON() });
  }
  res.end();
}

const API: Route[] = [
  {
    method: "GET",
    path: exact(ROUTES.health),
    role: "reader",
    handle: (c) =>
      send(c.res, 200, {
        ok: true,
        pid: process.pid,
        version: VERSION,
        apiVersion: API_VERSION,
        guestfs: c.ops.appliance.health(),
      } satisfies Health),
  },
  ...farmRoutes(send),
  ...leaseRoutes(send),
  ...Object.keys(STARTS).map((path): Route => ({
    method: "POST",
    path: exact(path),
    // clone and destroy check the source, quota and owner in their handler; import and fix are admin's.
    role: path === ROUTES.clone || path === ROUTES.destroy ? "operator" : "admin",
    handle: startOrPlan,
  })),
  {
    method: "GET",
    path: exact(ROUTES.vms),
    role: "reader",
    handle: async (c) => send(c.res, 200, { vms: await listVms(c.ops.viewDeps()) }),
  },
  {
    method: "GET",
    path: VM,
    role: "reader",
    handle: async (c) => send(c.res, 200, await showVm(c.ops.viewDeps(), c.params[0]!)),
  },
  {
    method: "POST",
    path: /^\/v1\/vms\/([^/]+)\/balloon$/,
    role: "operator",
    handle: async (c) => {
      const { size, force } = parseBody(balloonBody, await readJsonBody(c.req), "balloon request");
      authorizeBalloon(c.identity, c.ops, c.params[0]!, force ?? false);
      return send(c.res, 200, await balloonVm(c.ops.viewDeps(), c.params[0]!, size, { force }));
    },
  },
  {
    method: "POST",
    path: exact(ROUTES.audit),
    // audit --fix is admin's, checked in the handler once the body says so.
    role: "reader",
    handle: async (c) => {
      const { fix } = parseBody(auditBody, await readJsonBody(c.req), "audit request");
      if (fix) authorizeAuditFix(c.identity);
      return send(c.res, 200, await c.ops.audit(fix, c.identity));
    },
  },
  {
    method: "GET",
    path: exact(ROUTES.operations),
    role: "reader",
    handle: (c) => send(c.res, 200, { operations: c.ops.journal.list() }),
  },
  {
    method: "GET",
    path: OP,
    role: "reader",
    handle: (c) =>
      send(c.res, 200, {
        operation: c.ops.get(c.params[0]!),
        steps: c.ops.journal.steps(c.params[0]!),
        children: c.ops.journal.children(c.params[0]!),
      }),
  },
  {
    method: "GET",
    path: opAction("events"),
    role: "reader",
    handle: (c) => streamEvents(c.ops, c.params[0]!, afterParam(c.url), followParam(c.url), c.res),
  },
  {
    method: "POST",
    path: opAction("cancel"),
    role: "operator",
    handle: (c) => {
      checkOpOwner(c.identity, c.ops.get(c.params[0]!));
      c.ops.cancel(c.params[0]!).catch(() => {}); // the client follows the rollback through the events
      return send(c.res, 202, { opId: c.params[0] });
    },
  },
  {
    method: "POST",
    path: opAction("resume"),
    role: "admin",
    handle: (c) => {
      c.ops.resume(c.params[0]!);
      return send(c.res, 202, { opId: c.params[0] });
    },
  },
  auditLogRoute(send),
];

async function handle(
  routes: Route[],
  ops: Operations,
  identify: Identify,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  res.setHeader(API_VERSION_HEADER, String(API_VERSION));
  res.setHeader(VERSION_HEADER, VERSION);
  const url = requestUrl(req);
  const matching = routes.filter((r) => r.path.test(url.pathname));
  const route = matching.find((r) => r.method === req.method);
  if (!route) {
    // Refused without reading it: the body is drained so the client still gets the answer.
    await drain(req);
    if (matching.length) {
      const allowed = matching.map((r) => r.method).join(", ");
      res.setHeader("allow", allowed);
      throw new FarmError(
        "method_not_allowed",
        `${url.pathname} takes ${allowed}, not ${req.method}`,
        64,
        "see farmd(8) for the API",
      );
    }
    throw new FarmError(
      "no_route",
      `no route ${req.method} ${url.pathname}`,
      64,
      "see farmd(8) for the API",
    );
  }
  const params = route.path
    .exec(url.pathname)!
    .slice(1)
    .map((p) => pathParam(p!));
  let identity: Identity;
  try {
    identity = await identify(req, route.role);
  } catch (err) {
    // A certificate farmd does not know (or revoked) trying to change something is logged too.
    if (req.method !== "GET") watchAudit(ops, req, res, url, params, UNVERIFIED);
    throw err;
  }
  // Every request that may change something is logged, answered or refused.
  if (req.method !== "GET") watchAudit(ops, req, res, url, params, identity);
  if (!roleAtLeast(identity.role, route.role)) {
    await drain(req);
    throw new Forbidden(
      `${req.method} ${url.pathname} needs role ${route.role}; ${identity.owner} has role ${identity.role}`,
      identity.via === "socket"
        ? `ask an admin of this farmd to map one of your groups to role ${route.role} in farmd.toml's socket_roles`
        : `ask an admin of this farmd for a certificate with role ${route.role} (farmctl ca issue)`,
      { role: route.role },
    );
  }
  await route.handle({ ops, req, res, url, params, identity });
}

/** Who a refused, unverified client is in the audit log: it was given no role. */
const UNVERIFIED: Identity = {
  owner: "unverified",
  role: "reader",
  via: "tls",
  sources: [],
  maxVms: 0,
};

function watchAudit(
  ops: Operations,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  params: string[],
  identity: Identity,
): void {
  ops.auditLog.watch(res, {
    identity,
    method: req.method ?? "?",
    route: url.pathname,
    target: () => params[0] ?? bodyTarget(bodyOf(req)),
    opTarget: (id) => ops.journal.operation(id)?.target ?? null,
  });
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req);
}

function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", "http://farmd");
  } catch {
    throw new FarmError(
      "bad_path",
      `request path '${req.url}' is not a valid URL path`,
      64,
      "see farmd(8) for the API",
    );
  }
}

/** A name or an id from the path: valid percent-encoding of plain text. */
function pathParam(raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new FarmError(
      "bad_path",
      `'${raw}' in the request path is not valid percent-encoding`,
      64,
      "encode names and ids with encodeURIComponent",
    );
  }
  if (CONTROL_CHAR.test(value))
    throw new FarmError(
      "bad_path",
      `${JSON.stringify(value)} in the request path contains a control character`,
      64,
      "give the VM name or operation id as plain text",
    );
  return value;
}

function afterParam(url: URL): number {
  const after = url.searchParams.get("after") ?? "-1";
  if (!/^(-1|\d{1,15})$/.test(after))
    throw new BadInput(
      `query 'after=${after}' is not an event number`,
      "give -1 or a number, like after=12",
      {
        field: "after",
      },
    );
  return Number(after);
}

function followParam(url: URL): boolean {
  const follow = url.searchParams.get("follow") ?? "0";
  if (follow !== "0" && follow !== "1")
    throw new BadInput(`query 'follow=${follow}' is not 0 or 1`, "give follow=1 or follow=0", {
      field: "follow",
    });
  return follow === "1";
}
