// The audit log (issue 11): one JSON line per request that is not a GET, answered or refused, in
// <stateDir>/audit.log (0640) and in farmd's log; GET /v1/log reads it back.
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import type { AuditEntry, Identity } from "../api/auth.js";
import { BadInput } from "../api/errors.js";
import { ISO_TIME, ROUTES } from "../api/routes.js";
import type { Log } from "./operations.js";
import { exact, type Route, type Send } from "./route.js";

/** The requests being answered: each writes its line once, when its answer is sent. */
const pending = new WeakMap<ServerResponse, (status: number, body: unknown) => void>();

/** Called with every JSON answer before it is sent: its line is written before the client reads
 *  the answer, with the opId it started or the code it was refused with. */
export function noteAnswer(res: ServerResponse, status: number, body: unknown): void {
  pending.get(res)?.(status, body);
}

/** The request's own target when its path has none: a VM's name, a farm, a certificate's name. */
export function bodyTarget(body: Record<string, unknown> | undefined): string | null {
  const r = (body?.request ?? body) as { name?: unknown; spec?: { name?: unknown } } | undefined;
  if (typeof r?.name === "string") return r.name;
  if (typeof r?.spec?.name === "string") return `farm:${r.spec.name}`;
  return null;
}

export interface AuditRequest {
  identity: Identity;
  method: string;
  route: string;
  /** The path's target, else found once answered (the operation's target, the body's name). */
  target: () => string | null;
  opTarget: (opId: string) => string | null;
}

export class AuditLog {
  readonly path: string;

  constructor(
    stateDir: string,
    private readonly log: Log,
  ) {
    this.path = join(stateDir, "audit.log");
  }

  /** Writes the request's line with its answer, or (a stream, a client gone) when it closes. */
  watch(res: ServerResponse, r: AuditRequest): void {
    let written = false;
    const line = (status: number, body: unknown) => {
      if (written) return;
      written = true;
      const b = (body ?? {}) as { opId?: unknown; error?: { code?: unknown } };
      const opId = typeof b.opId === "string" ? b.opId : null;
      this.write({
        time: new Date().toISOString(),
        owner: r.identity.owner,
        role: r.identity.role,
        via: r.identity.via,
        method: r.method,
        route: r.route,
        target: r.target() ?? (opId ? r.opTarget(opId) : null),
        opId,
        status,
        code: typeof b.error?.code === "string" ? b.error.code : null,
      });
    };
    pending.set(res, line);
    res.once("close", () => line(res.statusCode, null));
  }

  write(e: AuditEntry): void {
    const result = `${e.status}${e.code ? ` ${e.code}` : ""}${e.opId ? ` op ${e.opId}` : ""}`;
    this.log(
      e.status < 400 ? "info" : "warning",
      `audit: ${e.owner} (${e.role}, ${e.via}) ${e.method} ${e.route} ${e.target ?? "-"}: ${result}`,
    );
    try {
      const fresh = !existsSync(this.path);
      if (fresh) mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      appendFileSync(this.path, JSON.stringify(e) + "\n", { mode: 0o640 });
      if (fresh) chmodSync(this.path, 0o640); // whatever the umask at the time
    } catch (err) {
      this.log("error", `audit: cannot write ${this.path}: ${(err as Error).message}`);
    }
  }

  /** The entries at or after `since`, oldest first, the last `limit` of them. */
  read(since: Date | null, limit: number): AuditEntry[] {
    const text = existsSync(this.path) ? readFileSync(this.path, "utf8") : "";
    const entries: AuditEntry[] = [];
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as AuditEntry;
        if (!since || Date.parse(e.time) >= since.getTime()) entries.push(e);
      } catch {
        // A line cut by a full disk is skipped; the others still read.
      }
    }
    return entries.slice(-limit);
  }
}

function sinceParam(url: URL): Date | null {
  const since = url.searchParams.get("since");
  if (since === null) return null;
  if (!ISO_TIME.test(since) || Number.isNaN(Date.parse(since)))
    throw new BadInput(
      `query 'since=${since}' is not an ISO 8601 time`,
      "give a time like since=2026-12-02T17:00:00Z",
      { field: "since" },
    );
  return new Date(since);
}

function limitParam(url: URL): number {
  const limit = url.searchParams.get("limit") ?? "1000";
  if (!/^\d{1,5}$/.test(limit) || Number(limit) < 1 || Number(limit) > 10000)
    throw new BadInput(`query 'limit=${limit}' is not 1 to 10000`, "give limit=100, say", {
      field: "limit",
    });
  return Number(limit);
}

/** GET /v1/log?since=<ISO>&limit=N: every reader may see who changed what. */
export function auditLogRoute(send: Send): Route {
  return {
    method: "GET",
    path: exact(ROUTES.log),
    role: "reader",
    handle: (c) =>
      send(c.res, 200, { entries: c.ops.auditLog.read(sinceParam(c.url), limitParam(c.url)) }),
  };
}
