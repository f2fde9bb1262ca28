// farmd's operations: each clone runs as a journaled job whose events are stored and streamed;
// family edits and Ganeti adds are serialized, copies limited; crashed jobs are rolled back at start.
import type { Identity } from "../api/auth.js";
import type { CloneRequest, CloneResult } from "../api/clone.js";
import { asFarmError, FarmError, NotFound } from "../api/errors.js";
import type { EventSink, OpEvent } from "../api/events.js";
import type { Config } from "../config/schema.js";
import type { Resolver } from "../host/resolve.js";
import type { Runner } from "../host/runner.js";
import type { CloneDeps } from "../ops/clone/steps.js";
import { committedStep, Interrupted, rollback, runSaga } from "../ops/saga.js";
import { openMemoryDb, type Db } from "../state/db.js";
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
import { cloneKind, fixKind, KINDS, type Kind } from "./kinds.js";
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

/** The VMs an operation works on: its target, and a clone's source. */
function involvedNames(kind: string, params: Record<string, unknown>): string[] {
  // A farm operation names a farm, not a VM: its members' own operations are checked one by one.
  if (kind.startsWith("farm-")) return [];
  const names = [params.name, kind === "clone" ? params.source : undefined];
  return names.filter((n): n is string => typeof n === "string");
}

function kindOf(name: string) {
  const kind = KINDS[name];
  if (!kind) throw new FarmError("internal", `unknown operation kind '${name}'`, 70);
  return kind;
}

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
  async preview<Req extends object, Ctx extends { opId: string }>(
    kind: Kind<Req, Ctx>,
    req: Req,
  ): Promise<Ctx> {
    kind.check(req, this.o.config);
    const ctx = kind.ctx(
      "",
      req,
      this.deps(() => {}, false),
    );
    await admit(kind.steps(), ctx);
    return ctx;
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
    this.refuseIfRecovering(kind, req);
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
    this.refuseIfRecovering(kind, req);
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
      signal: abort.signal,
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

  /** The --dry-run plan: the same saga with dry-run adapters and a throw-away journal; a refusal is thrown before any event. */
  async plan<Req extends object, Ctx extends { opId: string }>(
    kind: Kind<Req, Ctx>,
    req: Req,
    events: EventSink,
  ): Promise<unknown> {
    kind.check(req, this.o.config);
    const held = new HeldEvents();
    const ctx = kind.ctx("", req, this.deps(held.sink, true));
    const steps = kind.steps();
    const admitted = await admit(steps, ctx);
    const scratch = openMemoryDb();
    try {
      const journal = new Journal(scratch);
      ctx.opId = journal.createOperation(kind.name, kind.target(req), { ...req } as Record<
        string,
        unknown
      >);
      const run = { opId: ctx.opId, journal, events };
      await runSaga(steps, ctx, run, enter(steps, run, admitted, held));
      return kind.result(ctx);
    } finally {
      scratch.close();
    }
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
    if (op.state !== "interrupted" || this.running.has(opId)) {
      throw new FarmError(
        "not_resumable",
        `operation ${opId} is ${op.state}; only an interrupted operation can be resumed`,
        65,
      );
    }
    const kind = kindOf(op.kind);
    if (kind.exclusive)
      throw new FarmError(
        "not_resumable",
        `operation ${opId} is a ${op.kind}: a farm operation is run again, not resumed`,
        65,
        `cancel it (\`farmctl cancel ${opId}\`), then run the farm command again: up creates only what is missing, down destroys only what is left`,
      );
    const steps = this.journal.steps(opId);
    const from = steps.findIndex((s) => s.state !== "done");
    const abort = new AbortController();
    const events = this.sink(opId);
    const ctx = kind.restore(
      opId,
      op.params,
      this.deps(events, false, abort.signal, () => opId),
      steps,
    );
    this.journal.setOperationState(opId, "running");
    events({ type: "info", message: `resuming at step ${from + 1}` });
    this.track(opId, abort, () =>
      runSaga(
        kind.steps(),
        ctx,
        { opId, journal: this.journal, events, signal: abort.signal },
        from < 0 ? steps.length : from,
      ).then(() => kind.result(ctx)),
    );
  }

  /** Undoes an unfinished operation, or finishes it if it passed its point of no return. */
  private async settle(opId: string, why: string, stop?: AbortSignal): Promise<void> {
    const op = this.get(opId);
    const steps = this.journal.steps(opId);
    const events = this.sink(opId);
    const kind = kindOf(op.kind);
    const ctx = kind.restore(opId, op.params, this.deps(events, false), steps);
    const run = { opId, journal: this.journal, events };
    const committed = committedStep(steps);
    if (committed !== undefined) {
      events({ type: "info", message: `${why}: past its point of no return, finishing it` });
      await runSaga(kind.steps(), ctx, run, committed).catch(() => {}); // the journal has the outcome
    } else {
      events({ type: "info", message: `rolling back (${why})` });
      const last = Math.max(-1, ...steps.map((s) => s.seq));
      const errors = await rollback(kind.steps(), ctx, run, last, [], stop);
      if (stop?.aborted) {
        // Stopped mid-rollback: not failed, just unfinished; the next start takes it up again.
        events({ type: "info", message: `${why} stopped by farmd's stop; the next start goes on` });
        return;
      }
      this.journal.setOperationState(opId, errors.length ? "failed" : "rolled-back", {
        code: why,
        message: errors.join("; ") || why,
      });
    }
    events({ type: "end", opId, state: this.journal.operation(opId)!.state });
  }

  /**
   * At start: the operations a crash left unfinished show as `recovering` at once, then are undone
   * (or finished) one by one in the background while the API answers; `done` settles when all are.
   */
  recover(): { ids: string[]; done: Promise<void> } {
    const crashed = this.journal.unfinished();
    for (const op of crashed) this.journal.setOperationState(op.id, "recovering");
    let chain = Promise.resolve();
    for (const op of crashed) {
      const abort = new AbortController();
      const done = chain.then(async () => {
        if (abort.signal.aborted) return; // farmd stopped before its turn: still recovering
        this.o.log("warning", `op ${op.id}: left unfinished by a crash; recovering it`);
        await this.settle(op.id, "crash recovery", abort.signal).catch((err: unknown) =>
          this.o.log("error", `op ${op.id}: recovery failed: ${asFarmError(err).message}`),
        );
      });
      chain = done.finally(() => this.running.delete(op.id));
      this.running.set(op.id, { abort, done: chain });
    }
    return { ids: crashed.map((o) => o.id), done: chain };
  }

  /** A new operation on a VM that a crashed one is still being recovered for must wait its turn. */
  private refuseIfRecovering<Req extends object>(kind: Kind<Req, unknown>, req: Req): void {
    const mine = new Set(involvedNames(kind.name, req as Record<string, unknown>));
    for (const op of this.journal.unfinished()) {
      if (op.state !== "recovering") continue;
      const shared = involvedNames(op.kind, op.params).find((n) => mine.has(n));
      if (shared)
        throw new FarmError(
          "recovering",
          `VM '${shared}' is being recovered after a crash (operation ${op.id}, ${op.kind})`,
          75,
          `run the command again once \`farmctl ops\` shows ${op.id} ended`,
        );
    }
  }

  /** SIGTERM: take no new work, interrupt the running steps (a copy is aborted), record the state. */
  async stop(): Promise<void> {
    this.accepting = false;
    for (const job of this.running.values()) job.abort.abort(new Interrupted());
    await Promise.all([...this.running.values()].map((j) => j.done).concat(this.appliance.stop()));
  }
}
