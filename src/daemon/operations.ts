// farmd's operations: each runs as a journaled job whose events are stored and streamed; family
// edits and Ganeti adds are serialized, copies limited; crashed jobs are recovered (recovery.ts).
import type { Identity } from "../api/auth.js";
import type { CloneRequest, CloneResult } from "../api/clone.js";
import { asFarmError, FarmError, NotFound } from "../api/errors.js";
import type { EventSink, OpEvent } from "../api/events.js";
import type { Config } from "../config/schema.js";
import type { Resolver } from "../host/resolve.js";
import type { Runner } from "../host/runner.js";
import type { CloneDeps } from "../ops/clone/steps.js";
import { Interrupted, abortedBy, runSaga } from "../ops/saga.js";
import type { Db } from "../state/db.js";
import { Inventory } from "../state/inventory.js";
import { Journal } from "../state/journal.js";
import { Farms } from "../state/farms.js";
import type { StatusDeps } from "../ops/farm/status.js";
import { guardFull } from "../state/full.js";
import type { AuditReport } from "../api/inventory.js";
import { systemResolver } from "../host/resolve.js";
import { auditAndFix } from "../ops/audit/audit.js";
import type { AuditDeps } from "../ops/audit/checks.js";
import type { CrashHook } from "./crash-hook.js";
import { cloneKind, fixKind, kindOf, type Kind } from "./kinds.js";
import {
  recoverCrashed,
  refuseIfRecovering,
  resumableKind,
  resumeSaga,
  settleOperation,
} from "./recovery.js";
import { planOperation, previewOperation } from "./dry-run.js";
import { EventHub, type Listener } from "./event-hub.js";
import { admit, enter, HeldEvents } from "./admit.js";
import { hostLocks, type HostLocks } from "./locks.js";
import { ExclusiveTargets, type Claim } from "./exclusive.js";
import type { ChildOps, TcpProbe } from "../ops/farm/deps.js";
import { childOps } from "./children.js";
import { guestfsCacheDir } from "../config/paths.js";
import { Appliance } from "./appliance.js";
import { AuditLog } from "./audit-log.js";
import {
  guestPortOf,
  hostOf,
  logEvent,
  operationDeps,
  type DepsSources,
  type OperationDeps,
} from "./op-deps.js";

/** Sees every event of an operation from its first, with the operation's id. */
type ChildListener = (opId: string, event: OpEvent) => void;

export type Log = (level: "info" | "warning" | "error", message: string) => void;

export interface OperationsOptions {
  config: Config;
  db: Db;
  stateDir: string;
  log: Log;
  parallelCopies?: number;
  /** Tests inject a simulated host. */
  runner?: Runner;
  resolve?: Resolver;
  deps?: Partial<CloneDeps>;
  /** FARMD_TEST_CRASH_AT: kills farmd at one step, for the crash tests. */
  crash?: CrashHook;
  /** How a farm's `wait = "ssh"` reaches a member; tests simulate the guests' SSH servers. */
  tcpProbe?: TcpProbe;
}

/** `parentId`: the farm operation it runs for; `identity`: who asked (recorded as the owner). */
export interface StartOptions {
  parentId?: string;
  listener?: ChildListener;
  identity?: Identity;
}

export class Operations {
  readonly inventory: Inventory;
  readonly journal: Journal;
  readonly farms: Farms;
  private readonly locks: HostLocks;
  /** libguestfs' appliance, built at start (prepareGuest) so clones find it ready. */
  readonly appliance: Appliance;
  /** Who changed what through the API (issue 11). */
  readonly auditLog: AuditLog;
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly hub: EventHub;
  private readonly exclusive: ExclusiveTargets;
  private accepting = true;

  get config(): Config {
    return this.o.config;
  }

  constructor(private readonly o: OperationsOptions) {
    // A full disk under the state dir fails the operation (state_full), never farmd.
    const db = guardFull(o.db, o.stateDir);
    this.inventory = new Inventory(db);
    this.journal = new Journal(db);
    this.farms = new Farms(db);
    this.locks = hostLocks(o.parallelCopies ?? 2, o.config.guest.parallel);
    this.hub = new EventHub(o.log);
    this.exclusive = new ExclusiveTargets(this.journal);
    this.auditLog = new AuditLog(o.stateDir, o.log);
    this.appliance = new Appliance({
      guest: guestPortOf(
        o,
        hostOf(o, () => {}, false),
      ),
      cacheDir: guestfsCacheDir(o.config, o.stateDir),
      wanted: o.config.guest.customize.length > 0,
      log: o.log,
    });
  }

  /** At farmd start: builds the appliance in the background; the API answers meanwhile. */
  prepareGuest(): void {
    this.appliance.start();
  }

  private deps(
    events: EventSink,
    dryRun: boolean,
    signal?: AbortSignal,
    opId?: () => string | undefined,
  ): OperationDeps {
    return operationDeps(this.depsSources, events, dryRun, signal, opId);
  }

  /** What operationDeps assembles each operation's adapters from. */
  private get depsSources(): DepsSources {
    return {
      o: this.o,
      locks: this.locks,
      inventory: this.inventory,
      journal: this.journal,
      farms: this.farms,
      children: this.children,
      appliance: this.appliance,
    };
  }

  /** A farm operation's members: clones and destroys run as operations under it. */
  private readonly children: ChildOps = childOps({
    start: (kind, req, parentId, listener) => this.start(kindOf(kind), req, { parentId, listener }),
    ended: async (opId) => void (await this.running.get(opId)?.done),
    cancel: (opId) => this.cancel(opId),
    journal: () => this.journal,
  });

  /** Stores and fans out an operation's event. */
  private sink(opId: string): EventSink {
    return (event) => {
      this.hub.publish(opId, event, () => this.journal.appendEvent(opId, event));
      logEvent(this.o.log, opId, event);
    };
  }

  /** Adapters for the read-only views (list, show) and quick changes (balloon, audit). */
  viewDeps(): AuditDeps {
    const deps = this.deps(() => {}, false);
    return { ...deps, journal: this.journal, resolve: this.o.resolve ?? systemResolver };
  }

  /** The adapters of a farm's plan, list and status: queries only. */
  farmView(): StatusDeps {
    return { ...this.deps(() => {}, false), farms: this.farms };
  }

  /** A farm operation's dry run: its preflight (read-only) alone; its refusal is thrown. */
  preview<Req extends object, Ctx extends { opId: string }>(kind: Kind<Req, Ctx>, req: Req) {
    return previewOperation(
      kind,
      req,
      this.o.config,
      this.deps(() => {}, false),
    );
  }

  /** Audits the host; with `fix`, runs the repairs as a `fix` operation and waits for its report. */
  async audit(fix: boolean, identity?: Identity): Promise<AuditReport> {
    if (!fix) return auditAndFix(this.viewDeps(), false);
    const opId = await this.start(fixKind, {}, { identity });
    await this.running.get(opId)?.done;
    const end = this.journal.events(opId).at(-1)?.event as OpEvent | undefined;
    if (end?.type === "end" && end.result) return end.result as AuditReport;
    throw new FarmError(
      "operation_failed",
      `audit --fix (operation ${opId}) failed${end?.type === "end" && end.error ? `: ${end.error.message}` : ""}`,
      1,
      `see \`farmctl ops ${opId}\``,
    );
  }

  /**
   * Admits an operation (its preflight passes, or its refusal is thrown and nothing is journaled),
   * then runs it in the background and returns its id. `parentId`: the farm operation it runs
   * for; `listener` sees every event from the first (a farm operation forwards its members').
   */
  async start<Req extends object, Ctx extends { opId: string }>(
    kind: Kind<Req, Ctx>,
    req: Req,
    opts: StartOptions = {},
  ): Promise<string> {
    this.refuseIfStopping();
    kind.check(req, this.o.config);
    refuseIfRecovering(this.journal, kind.name, req as Record<string, unknown>);
    const exclusive = this.exclusive.claim(kind, req);
    try {
      return await this.admitAndRun(kind, req, opts, exclusive);
    } catch (err) {
      exclusive?.release();
      throw err;
    }
  }

  private async admitAndRun<Req extends object, Ctx extends { opId: string }>(
    kind: Kind<Req, Ctx>,
    req: Req,
    opts: StartOptions,
    exclusive: Claim | null,
  ): Promise<string> {
    const abort = new AbortController();
    const held = new HeldEvents();
    let opId: string | undefined;
    const ctx = kind.ctx(
      "",
      req,
      this.deps(held.sink, false, abort.signal, () => opId),
    );
    const steps = kind.steps();
    const admitted = await admit(steps, ctx);
    this.refuseIfStopping();
    refuseIfRecovering(this.journal, kind.name, req as Record<string, unknown>);
    opId = ctx.opId = this.journal.createOperation(
      kind.name,
      kind.target(req),
      { ...req } as Record<string, unknown>,
      opts.parentId ?? null,
      opts.identity?.owner ?? null,
    );
    exclusive?.held(opId);
    if (opts.listener) {
      const [id, listener] = [opId, opts.listener];
      const off = this.hub.subscribe(opId, (_seq, e) => {
        if (e.type === "end") off();
        listener(id, e);
      });
    }
    const run = {
      opId,
      journal: this.journal,
      events: this.sink(opId),
      ...abortedBy(abort),
      crashAt: this.o.crash?.forOperation(kind.name, opId),
    };
    const id = opId;
    this.track(
      opId,
      abort,
      async () => {
        await runSaga(steps, ctx, run, enter(steps, run, admitted, held));
        // A farm operation whose steps all ran may still have failed members: it failed.
        const failed = kind.failure?.(ctx);
        if (failed) {
          this.journal.setOperationState(id, "failed", failed.toJSON());
          throw failed;
        }
        return kind.result(ctx);
      },
      () => exclusive?.release(),
    );
    return opId;
  }

  private refuseIfStopping(): void {
    if (!this.accepting)
      throw new FarmError(
        "stopping",
        "farmd is stopping and takes no new operations",
        75,
        "run the command again once farmd is back",
      );
  }

  startClone(req: CloneRequest): Promise<string> {
    return this.start(cloneKind, req);
  }

  /** The --dry-run plan: the same saga with dry-run adapters and a throw-away journal. */
  plan<Req extends object, Ctx extends { opId: string }>(
    kind: Kind<Req, Ctx>,
    req: Req,
    events: EventSink,
  ): Promise<unknown> {
    return planOperation(kind, req, this.o.config, (sink) => this.deps(sink, true), events);
  }

  private track(
    opId: string,
    abort: AbortController,
    job: () => Promise<unknown>,
    ended: () => void = () => {},
  ): void {
    const events = this.sink(opId);
    const done = job()
      .then((result) =>
        events({
          type: "end",
          opId,
          state: this.journal.operation(opId)!.state,
          ...(result ? { result } : {}),
        }),
      )
      .catch((err: unknown) => {
        const error = asFarmError(err);
        // A farm operation with failed members still says how each member ended.
        const result = error.details?.result;
        events({
          type: "end",
          opId,
          state: this.journal.operation(opId)!.state,
          ...(result ? { result } : {}),
          error: error.toJSON(),
        });
      })
      .finally(() => {
        this.running.delete(opId);
        ended();
      });
    this.running.set(opId, { abort, done });
  }

  subscribe(opId: string, listener: Listener): () => void {
    return this.hub.subscribe(opId, listener);
  }

  isRunning(opId: string): boolean {
    return this.running.has(opId);
  }

  get(opId: string) {
    const op = this.journal.operation(opId);
    if (!op) throw new NotFound(`no operation '${opId}'`, "`farmctl ops` lists the operations");
    return op;
  }

  /** Stops a running operation and rolls it back, or rolls back an interrupted one; throws at once if neither. */
  cancel(opId: string): Promise<void> {
    const op = this.get(opId);
    const job = this.running.get(opId);
    if (job) {
      job.abort.abort("by `farmctl cancel`");
      return job.done;
    }
    if (op.state !== "interrupted")
      throw new FarmError("not_running", `operation ${opId} is ${op.state}, nothing to cancel`, 65);
    // A farm operation's interrupted members are rolled back with it.
    for (const child of this.journal.children(opId))
      if (child.state === "interrupted") this.cancel(child.id).catch(() => {});
    const abort = new AbortController();
    const done = this.settle(opId, "cancelled", abort.signal).finally(() =>
      this.running.delete(opId),
    );
    this.running.set(opId, { abort, done });
    return done;
  }

  /** Resumes an interrupted operation from its first step not done. */
  resume(opId: string): void {
    const op = this.get(opId);
    const kind = resumableKind(op, this.running.has(opId));
    const abort = new AbortController();
    const events = this.sink(opId);
    const deps = this.deps(events, false, abort.signal, () => opId);
    this.track(opId, abort, () => resumeSaga(kind, op, this.journal, events, deps, abort));
  }

  /** Undoes an unfinished operation, or finishes it if it passed its point of no return. */
  private settle(opId: string, why: string, stop?: AbortSignal): Promise<void> {
    const op = this.get(opId);
    const events = this.sink(opId);
    return settleOperation(op, this.journal, events, this.deps(events, false), why, stop);
  }

  /** At start: the operations a crash left unfinished are recovered behind the API (recovery.ts). */
  recover(): { ids: string[]; done: Promise<void> } {
    return recoverCrashed(this.journal, this.running, this.o.log, (id, signal) =>
      this.settle(id, "crash recovery", signal),
    );
  }

  /** SIGTERM: take no new work, interrupt the running steps (a copy is aborted), record the state. */
  async stop(): Promise<void> {
    this.accepting = false;
    for (const job of this.running.values()) job.abort.abort(new Interrupted());
    await Promise.all([...this.running.values()].map((j) => j.done).concat(this.appliance.stop()));
  }
}
