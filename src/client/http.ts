// farmd's API, typed; the CLI's only way to the daemon (its unix socket or its TLS listener).
import type { IncomingMessage } from "node:http";
import type { CloneRequest, CloneResult } from "../api/clone.js";
import type { DestroyRequest } from "../api/destroy.js";
import type {
  FarmDownRequest,
  FarmPlan,
  FarmSpecInput,
  FarmStatus,
  FarmSummary,
  FarmUpRequest,
} from "../api/farm.js";
import type { AuditReport, VmDetail, VmRow } from "../api/inventory.js";
import type { BalloonResult, ImportRequest, RenewResult } from "../api/vm.js";
import { FarmError, Unavailable, type ErrorJson } from "../api/errors.js";
import type { OpEvent } from "../api/events.js";
import { ROUTES } from "../api/routes.js";
import type { OperationRecord, StepRecord } from "../api/operations.js";
import type { Health } from "../api/health.js";
import { API_VERSION, API_VERSION_HEADER, VERSION_HEADER, apiMismatch } from "../api/version.js";
import { unixTransport, type Transport } from "./transport.js";
import type { AuditEntry, CertRecord } from "../api/auth.js";
import type { CaInitResult, CaListing, IssuedCert, IssueRequest } from "../api/ca.js";

export type StreamedEvent = OpEvent & { seq?: number };

/** A FarmError rebuilt from the daemon's JSON: same code, message, hint and exit code. */
export function remoteError(e: ErrorJson): FarmError {
  return new FarmError(e.code, e.message, e.exitCode ?? 70, e.hint, e.details);
}

/** A farmd of another API version is named before its body is misread (one before versioning: none). */
export function checkApiVersion(res: IncomingMessage): void {
  const header = res.headers[API_VERSION_HEADER];
  if (typeof header !== "string") return;
  const farmdApi = Number(header);
  if (farmdApi === API_VERSION) return;
  res.resume();
  const version = res.headers[VERSION_HEADER];
  throw apiMismatch(farmdApi, typeof version === "string" ? version : undefined);
}

export class FarmdClient {
  readonly transport: Transport;

  /** `target`: farmd's unix socket path, or a transport (httpsTransport for a remote farmd). */
  constructor(target: string | Transport) {
    this.transport = typeof target === "string" ? unixTransport(target) : target;
  }

  private async open(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    const res = await this.transport.open(method, path, body, signal);
    checkApiVersion(res);
    return res;
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.open(method, path, body);
    const doc = await this.answer<{ error?: ErrorJson } & T>(res);
    if (doc.error) throw remoteError(doc.error);
    return doc;
  }

  /** A whole JSON answer; anything else (a proxy's error page, say) is named as such. */
  private async answer<T>(res: IncomingMessage): Promise<T> {
    let text = "";
    for await (const chunk of res) text += chunk;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new Unavailable(
        `${this.transport.where} answered HTTP ${res.statusCode} with something that is not farmd's JSON`,
        "check that the socket or --remote URL is farmd's (see farmd(8))",
      );
    }
  }

  /** Yields NDJSON lines of a streaming response as they arrive. */
  private async *lines(res: IncomingMessage): AsyncGenerator<StreamedEvent> {
    if (res.statusCode !== 200)
      throw remoteError((await this.answer<{ error: ErrorJson }>(res)).error);
    let buf = "";
    for await (const chunk of res) {
      buf += chunk;
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as StreamedEvent;
      }
    }
  }

  health(): Promise<Health> {
    return this.json("GET", ROUTES.health);
  }

  async startClone(req: CloneRequest): Promise<string> {
    return (await this.json<{ opId: string }>("POST", ROUTES.clone, { request: req })).opId;
  }

  async *plan(req: CloneRequest): AsyncGenerator<StreamedEvent> {
    yield* this.lines(await this.open("POST", ROUTES.clone, { request: req, dryRun: true }));
  }

  async vms(): Promise<VmRow[]> {
    return (await this.json<{ vms: VmRow[] }>("GET", ROUTES.vms)).vms;
  }

  vm(name: string): Promise<VmDetail> {
    return this.json("GET", ROUTES.vm(name));
  }

  balloon(name: string, size: string, force = false): Promise<BalloonResult> {
    return this.json("POST", ROUTES.balloon(name), { size, ...(force ? { force } : {}) });
  }

  /** The lease of `name` now ends `lease` (e.g. "2h") from now. */
  renew(name: string, lease: string): Promise<RenewResult> {
    return this.json("POST", ROUTES.renew(name), { lease });
  }

  audit(fix: boolean): Promise<AuditReport> {
    return this.json("POST", ROUTES.audit, { fix });
  }

  /** `audit --fix` as an operation; follow it with events(). */
  async startFix(): Promise<string> {
    return (await this.json<{ opId: string }>("POST", ROUTES.fix, { request: {} })).opId;
  }

  async startImport(req: ImportRequest): Promise<string> {
    return (await this.json<{ opId: string }>("POST", ROUTES.import, { request: req })).opId;
  }

  async startDestroy(req: DestroyRequest): Promise<string> {
    return (await this.json<{ opId: string }>("POST", ROUTES.destroy, { request: req })).opId;
  }

  async *planDestroy(req: DestroyRequest): AsyncGenerator<StreamedEvent> {
    yield* this.lines(await this.open("POST", ROUTES.destroy, { request: req, dryRun: true }));
  }

  planFarm(input: FarmSpecInput): Promise<FarmPlan> {
    return this.json("POST", ROUTES.farmPlan, input);
  }

  /** A replace or destroy without `yes` is refused with code "confirm_needed" (ConfirmNeeded). */
  async startFarmUp(req: FarmUpRequest): Promise<string> {
    return (await this.json<{ opId: string }>("POST", ROUTES.farmUp, { request: req })).opId;
  }

  async *planFarmUp(req: FarmUpRequest): AsyncGenerator<StreamedEvent> {
    yield* this.lines(await this.open("POST", ROUTES.farmUp, { request: req, dryRun: true }));
  }

  async startFarmDown(req: FarmDownRequest): Promise<string> {
    return (await this.json<{ opId: string }>("POST", ROUTES.farmDown, { request: req })).opId;
  }

  async *planFarmDown(req: FarmDownRequest): AsyncGenerator<StreamedEvent> {
    yield* this.lines(await this.open("POST", ROUTES.farmDown, { request: req, dryRun: true }));
  }

  /** The farms, as a bare array (the contract) or wrapped as {farms} like the other lists. */
  async farms(): Promise<FarmSummary[]> {
    const doc = await this.json<FarmSummary[] | { farms: FarmSummary[] }>("GET", ROUTES.farms);
    return Array.isArray(doc) ? doc : doc.farms;
  }

  farm(name: string): Promise<FarmStatus> {
    return this.json("GET", ROUTES.farm(name));
  }

  /** `signal` stops following (Ctrl-C detaches): the connection is closed, the operation goes on. */
  async *events(
    opId: string,
    follow: boolean,
    after = -1,
    signal?: AbortSignal,
  ): AsyncGenerator<StreamedEvent> {
    yield* this.lines(
      await this.open(
        "GET",
        `${ROUTES.events(opId)}?after=${after}&follow=${follow ? 1 : 0}`,
        undefined,
        signal,
      ),
    );
  }

  async operations(): Promise<OperationRecord[]> {
    return (await this.json<{ operations: OperationRecord[] }>("GET", ROUTES.operations))
      .operations;
  }

  /** `children`: a farm operation's member operations (empty for the others). */
  operation(
    opId: string,
  ): Promise<{ operation: OperationRecord; steps: StepRecord[]; children: OperationRecord[] }> {
    return this.json("GET", ROUTES.operation(opId));
  }

  async cancel(opId: string): Promise<void> {
    await this.json("POST", ROUTES.cancel(opId));
  }

  async resume(opId: string): Promise<void> {
    await this.json("POST", ROUTES.resume(opId));
  }

  /** The audit log's entries at or after `since` (ISO 8601), the last `limit`. */
  async auditLog(since?: string, limit = 1000): Promise<AuditEntry[]> {
    const q = new URLSearchParams({ limit: String(limit), ...(since ? { since } : {}) });
    return (await this.json<{ entries: AuditEntry[] }>("GET", `${ROUTES.log}?${q}`)).entries;
  }

  caInit(): Promise<CaInitResult> {
    return this.json("POST", ROUTES.caInit, {});
  }

  /** The new certificate with its key: the only copy of the key farmd gives. */
  caIssue(req: IssueRequest): Promise<IssuedCert> {
    return this.json("POST", ROUTES.caIssue, req);
  }

  caList(): Promise<CaListing> {
    return this.json("GET", ROUTES.ca);
  }

  async caRevoke(name: string): Promise<CertRecord[]> {
    return (await this.json<{ revoked: CertRecord[] }>("POST", ROUTES.caRevoke, { name })).revoked;
  }
}

/** Follows an operation to its end; resolves with the result or throws its error. */
export async function followToEnd<R = CloneResult>(
  events: AsyncIterable<StreamedEvent>,
  onEvent: (e: OpEvent) => void,
): Promise<R> {
  for await (const e of events) {
    if (e.type === "end") {
      if (e.error) throw remoteError(e.error);
      return e.result as R;
    }
    onEvent(e);
  }
  throw new Unavailable(
    "farmd closed the event stream before the operation ended",
    "follow it again with `farmctl ops ID --follow`",
  );
}
