// farmd's API over its unix socket, typed; the CLI's only way to the daemon.
import { request, type IncomingMessage } from "node:http";
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

export type StreamedEvent = OpEvent & { seq?: number };

/** A FarmError rebuilt from the daemon's JSON: same code, message, hint and exit code. */
export function remoteError(e: ErrorJson): FarmError {
  return new FarmError(e.code, e.message, e.exitCode ?? 70, e.hint, e.details);
}

export class FarmdClient {
  constructor(readonly socketPath: string) {}

  private open(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      // agent: false: no pooled keep-alive socket that could outlive a farmd restart.
      const req = request(
        {
          socketPath: this.socketPath,
          method,
          path,
          agent: false,
          signal,
          headers: { "content-type": "application/json" },
        },
        resolve,
      );
      req.on("error", (err: NodeJS.ErrnoException) => reject(this.connectError(err)));
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  private connectError(err: NodeJS.ErrnoException): FarmError {
    if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
      return new Unavailable(
        `farmd is not running (no answer on ${this.socketPath})`,
        "start it: `systemctl start farmd`, or run `farmd` as root (see farmd(8))",
      );
    }
    if (err.code === "EACCES") {
      return new FarmError(
        "forbidden",
        `not allowed to talk to farmd on ${this.socketPath}`,
        77,
        "run as root, or as a member of the group farmd.toml's socket_group names",
      );
    }
    return new Unavailable(
      `cannot reach farmd on ${this.socketPath}: ${err.message}`,
      "check that farmd runs (see farmd(8))",
    );
  }

  private async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.open(method, path, body);
    let text = "";
    for await (const chunk of res) text += chunk;
    const doc = JSON.parse(text) as { error?: ErrorJson } & T;
    if (doc.error) throw remoteError(doc.error);
    return doc;
  }

  /** Yields NDJSON lines of a streaming response as they arrive. */
  private async *lines(res: IncomingMessage): AsyncGenerator<StreamedEvent> {
    if (res.statusCode !== 200) {
      let text = "";
      for await (const chunk of res) text += chunk;
      throw remoteError((JSON.parse(text) as { error: ErrorJson }).error);
    }
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
