// The clone as saga steps (DESIGN.md section 2): each checks before it acts, so do and undo can be
// repeated after a crash; every LV is identified by the UUID recorded when it was made, or, when a
// crash came before that record, by the tag farmd_op_<id> it was created with.
import type { CloneResult, CopyReport, GuestResult } from "../../api/clone.js";
import { NotFound, OperationFailed } from "../../api/errors.js";
import type { EventSink } from "../../api/events.js";
import { sshPorts } from "../../config/schema.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import { farmTags } from "../../host/ganeti-tags.js";
import type { Held } from "../../state/inventory.js";
import type { Journal } from "../../state/journal.js";
import { allocate, parseSubnet, type Allocation } from "../allocate.js";
import { cloneScope, vmEntry } from "../entry.js";
import type {
  ConsolePort,
  CopyPort,
  GuestPort,
  LvInfo,
  MonitorPort,
  ProcessPort,
  RevertData,
  TemplatePort,
} from "../ports.js";
import {
  beginIdentityRead,
  identityStep,
  type IdentityRead,
  type ParseFirstboot,
} from "./identity.js";
import { journalJob, settleJob } from "../ganeti-job.js";
import type { SagaStep } from "../saga.js";
import { checkGuestTemplates, customizeStep, guestVm } from "./customize.js";
import { checkHostTemplates } from "./host-templates.js";
import { created, lvByUuid, ownLvNow, removeOwnLv } from "./own-lv.js";
import { bwlimitOf, preflight, type PreflightDeps } from "./preflight.js";
import { balloonStep, recordStep } from "./finish.js";
import { copyOptions, createThinDisk, skipsCopy, skipsSnapshot } from "./thin.js";
import { CLONE_NEEDS, withNeeds } from "./graph.js";
import type { CloneFacts, CloneRequest } from "./request.js";

export type { CloneResult };

export interface CloneDeps extends PreflightDeps {
  monitor: MonitorPort;
  copier: CopyPort;
  events: EventSink;
  dryRun: boolean;
  signal?: AbortSignal;
  processes: ProcessPort;
  templates: TemplatePort;
  /** libguestfs; absent, the customize step is skipped with a warning. */
  guest?: GuestPort;
  /** The guests' serial consoles, where the first-boot unit prints the new host keys. */
  console: ConsolePort;
  /** Parses the first-boot block; without it the identity step learns nothing. */
  parseFirstboot?: ParseFirstboot;
  /** The operations' journal: the result's step times. */
  journal?: Journal;
}

export interface CloneCtx {
  opId: string;
  req: CloneRequest;
  deps: CloneDeps;
  facts?: CloneFacts;
  alloc?: Allocation;
  entry?: VmEntry;
  targetLv?: LvInfo;
  snapshotUuid?: string;
  warnings: string[];
  balloonReached?: number | null;
  /** The copy step's figures and throttle, for the result. */
  copy?: CopyReport | null;
  /** The new disk's name once Ganeti adopted it (`<uuid>.disk0`). */
  adoptedLvName?: string;
  guest?: GuestResult;
  /** The lease's end, set by the record step; null without --lease. */
  expiresAt?: string | null;
  /** The console read begun when the instance started, awaited by the identity step. */
  identity?: { read: Promise<IdentityRead>; startedAt: number; stop(): void };
}

export const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`clone step ran before ${what} was known`);
  return v;
};

const snapshotName = (opId: string) => `farm-snap-${opId}`;

/** The clone's steps in declaration (journal) order, with the needs of graph.ts. */
export function cloneSteps(): SagaStep<CloneCtx>[] {
  return withNeeds(declaredSteps(), CLONE_NEEDS);
}

function declaredSteps(): SagaStep<CloneCtx>[] {
  return [
    {
      name: "preflight",
      title: "check the source, the new name, free space and tools",
      planning: true,
      async do(ctx, step) {
        ctx.facts = await preflight(ctx.req, ctx.deps);
        // A requested address, MAC or port already taken is refused here, before any operation.
        const alloc = pickFor(ctx, ctx.deps.inventory.held());
        // Templates render now: a --var they need and were not given fails before any change.
        checkGuestTemplates(ctx, guestVm(ctx, alloc));
        const { target, webName } = ctx.facts;
        const entry = vmEntry(target, alloc, webName, ctx.deps.config, cloneScope(ctx.req));
        checkHostTemplates(ctx.deps.templates, entry);
        const { used: _used, ...facts } = ctx.facts;
        step.record({ facts });
      },
    },
    {
      name: "allocate",
      title: "pick the address, MAC and SSH port",
      planning: true,
      async do(ctx, step) {
        const f = need(ctx.facts, "preflight");
        const { config, inventory } = ctx.deps;
        const pick = (held: Held) => pickFor(ctx, held);
        const record = (a: Allocation) => ({
          name: f.target.name,
          group: f.target.group,
          fqdn: f.target.fqdn,
          ...a,
          webName: f.webName,
          memoryBytes: f.memoryBytes,
          balloonBytes: null,
          vg: config.lvm.vg,
          lvName: f.target.lvName,
          lvUuid: null,
          diskBytes: f.source.sizeBytes,
          source: f.source.fqdn,
          opId: ctx.opId,
          // Kept with the reservation, in its transaction: what the templates see and whose it is.
          vars: ctx.req.vars ?? {},
          membership: ctx.req.farm,
        });
        ctx.alloc = ctx.deps.dryRun
          ? pick(inventory.held())
          : pickAllocation(inventory.reserve((held) => record(pick(held))));
        ctx.entry = vmEntry(f.target, ctx.alloc, f.webName, config, cloneScope(ctx.req));
        step.record({ reserved: !ctx.deps.dryRun, entry: ctx.entry, alloc: ctx.alloc });
      },
      async undo(ctx) {
        ctx.deps.inventory.release(ctx.req.name, ctx.opId);
      },
    },
    {
      name: "snapshot",
      title: "snapshot the source disk",
      async do(ctx, step) {
        const f = need(ctx.facts, "preflight");
        if (skipsSnapshot(ctx)) return;
        step.record({ name: snapshotName(ctx.opId) });
        const snap = await ctx.deps.lvm.createSnapshot(
          f.source.vg,
          f.source.lv,
          snapshotName(ctx.opId),
          f.snapshotBytes,
          created(ctx, step),
        );
        step.record({ uuid: snap.uuid });
        ctx.snapshotUuid = snap.uuid;
      },
      async undo(ctx, step) {
        if (skipsSnapshot(ctx)) return;
        await removeOwnLv(ctx, step, snapshotName(ctx.opId));
      },
    },
    {
      name: "create-lv",
      title: "create the new disk",
      async do(ctx, step) {
        const f = need(ctx.facts, "preflight");
        if (f.thin) ctx.targetLv = await createThinDisk(ctx, step, created(ctx, step));
        else {
          step.record({ name: f.target.lvName });
          ctx.targetLv = await ctx.deps.lvm.create(
            f.source.vg,
            f.target.lvName,
            f.source.sizeBytes,
            created(ctx, step),
          );
        }
        step.record({ uuid: ctx.targetLv.uuid, name: ctx.targetLv.name, lv: ctx.targetLv });
        if (!ctx.deps.dryRun)
          ctx.deps.inventory.update(f.target.name, { lvUuid: ctx.targetLv.uuid });
      },
      async undo(ctx, step) {
        await removeOwnLv(ctx, step, step.data.name as string | undefined);
      },
    },
    familyStep("dns", "add the DNS record", async (ctx, entry) => {
      if (ctx.deps.dryRun) return;
      if (!(await ctx.deps.families.dns.waitResolves(entry))) {
        throw new NotFound(
          `${entry.fqdn} does not resolve to ${entry.ip} after the DNS reload`,
          "check that named loaded the zone (named-checkzone, rndc status) and that resolv.conf points at it",
        );
      }
    }),
    familyStep("dhcp", "add the DHCP host"),
    {
      name: "adopt",
      title: "create the Ganeti instance on the new disk",
      async do(ctx, step) {
        const f = need(ctx.facts, "preflight");
        const entry = need(ctx.entry, "the allocation");
        const target = need(ctx.targetLv, "the new disk");
        const { ganeti, config } = ctx.deps;
        step.record({ fqdn: entry.fqdn, lvUuid: target.uuid });
        await ganeti.add(
          {
            fqdn: entry.fqdn,
            node: config.ganeti.node,
            memory: f.memory,
            os: config.ganeti.os,
            lvName: target.name,
            mac: entry.mac,
            tags: ctx.req.farm ? farmTags(ctx.req.farm.farm, ctx.req.farm.member) : undefined,
          },
          journalJob(step),
        );
        const renamed = await lvByUuid(ctx, target.uuid);
        if (renamed && !ctx.deps.dryRun) {
          // Ganeti renamed it <uuid>.disk0: the name the result and `show` give.
          ctx.adoptedLvName = renamed.name;
          step.record({ adoptedLvName: renamed.name });
          ctx.deps.inventory.update(f.target.name, { lvName: renamed.name });
        }
      },
      async undo(ctx, step) {
        const fqdn = step.data.fqdn;
        if (typeof fqdn !== "string") return;
        const { ganeti } = ctx.deps;
        // Ganeti goes on with a job after farmd died: let the add (and an earlier undo's remove) end
        // first, or the LV would be looked for while Ganeti renames it to <uuid>.disk0.
        await settleJob(ganeti, step, "INSTANCE_CREATE", fqdn);
        await settleJob(ganeti, step, "INSTANCE_REMOVE", fqdn, "undoJobId");
        if (!(await ganeti.listInstances()).some((i) => i.name === fqdn)) return;
        // Only remove the instance if its disk is the LV this operation made.
        const disks = await ganeti.instanceDisks(fqdn);
        const own = await lvByUuid(ctx, step.data.lvUuid);
        if (!own || !disks.some((d) => d.lv === own.name)) {
          throw new OperationFailed(
            `instance ${fqdn} does not use the disk this clone made; not removing it`,
            `check it with gnt-instance info ${fqdn}`,
          );
        }
        // The clone is ours and thrown away: Ganeti's forced stop, no wait on the guest.
        await ganeti.shutdown(fqdn, 0);
        await ganeti.remove(fqdn, (jobId) => step.record({ undoJobId: jobId }));
      },
    },
    {
      name: "copy",
      title: "copy the snapshot onto the new disk",
      async do(ctx, step) {
        const f = need(ctx.facts, "preflight");
        const target = need(ctx.targetLv, "the new disk");
        const { lvm } = ctx.deps;
        if (skipsCopy(ctx)) return;
        // adopted by now: the LV is <uuid>.disk0, found by the UUID this clone created it with
        const own = ctx.deps.dryRun ? target : await ownLvNow(lvm, target);
        const dst = lvm.devicePath(own.vg, own.name);
        ctx.copy = await ctx.deps.copier.copy(
          lvm.devicePath(f.source.vg, snapshotName(ctx.opId)),
          dst,
          f.source.sizeBytes,
          ctx.deps.events,
          ctx.deps.signal,
          (pid) => step.record({ pid, of: `of=${dst}` }),
          { ...copyOptions(ctx), bwlimit: bwlimitOf(ctx.req) },
        );
        // journaled, so a resumed clone's result still reports the copy's rate and throttle
        step.record({ report: ctx.copy });
      },
      // A farmd killed mid-copy leaves its dd writing: stop it, or the LV cannot be removed.
      async undo(ctx, step) {
        const { pid, of } = step.data as { pid?: number; of?: string };
        if (pid && of) await ctx.deps.processes.killLeftover(pid, ["dd", of]);
      },
    },
    {
      name: "drop-snapshot",
      title: "remove the snapshot",
      async do(ctx) {
        const lv = await lvByUuid(ctx, ctx.snapshotUuid);
        if (lv) await ctx.deps.lvm.removeChecked(lv.vg, lv.name, lv.uuid);
        // A dry run's snapshot exists only in the plan: still show its removal.
        else if (ctx.deps.dryRun && ctx.snapshotUuid)
          await ctx.deps.lvm.removeChecked(
            need(ctx.facts, "preflight").source.vg,
            snapshotName(ctx.opId),
            ctx.snapshotUuid,
          );
      },
    },
    customizeStep,
    familyStep("firewall", "forward the SSH port"),
    {
      name: "start",
      title: "start the instance",
      async do(ctx) {
        if (!need(ctx.facts, "preflight").start) return;
        await ctx.deps.ganeti.start(need(ctx.entry, "the allocation").fqdn);
        // The console keeps no history: watch it from now on, while the balloon step waits.
        beginIdentityRead(ctx);
      },
      async undo(ctx) {
        ctx.identity?.stop();
        const fqdn = need(ctx.entry, "the allocation").fqdn;
        const inst = (await ctx.deps.ganeti.listInstances()).find((i) => i.name === fqdn);
        // A rollback never waits on a guest that ignores the power button: forced stop at once.
        if (inst && inst.status === "running") await ctx.deps.ganeti.shutdown(fqdn, 0);
      },
    },
    balloonStep(),
    identityStep(),
    familyStep("proxy", "add the nginx site"),
    recordStep(),
  ];
}

type FamilyKey = "dns" | "dhcp" | "firewall" | "proxy";

function familyStep(
  key: FamilyKey,
  title: string,
  after?: (ctx: CloneCtx, entry: VmEntry) => Promise<void>,
): SagaStep<CloneCtx> {
  return {
    name: key,
    title,
    async do(ctx, step) {
      const entry = need(ctx.entry, "the allocation");
      if (key === "proxy" && !entry.webName) return;
      await ctx.deps.families[key].add(entry, (revert) => step.record({ revert }));
      await after?.(ctx, entry);
    },
    async undo(ctx, step) {
      if (ctx.entry)
        await ctx.deps.families[key].revert(ctx.entry, step.data.revert as RevertData | undefined);
    },
  };
}

function union<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): Set<T> {
  return new Set([...a, ...b]);
}

function pickAllocation(r: { ip: string; mac: string; sshPort: number }): Allocation {
  return { ip: r.ip, mac: r.mac, sshPort: r.sshPort };
}

/** The address, MAC and port for the clone, against what the host and `held` reservations use. */
function pickFor(ctx: CloneCtx, held: Held): Allocation {
  const f = need(ctx.facts, "preflight");
  const { config } = ctx.deps;
  return allocate(
    { ip: ctx.req.ip, mac: ctx.req.mac, sshPort: ctx.req.sshPort },
    parseSubnet(config.network.subnet, config.network.gateway),
    {
      ips: new Map([...held.ips, ...f.used.ips]),
      macs: union(f.used.macs, held.macs),
      ports: new Map([...held.ports, ...f.used.ports]),
    },
    { range: sshPorts(config.firewall), base: config.firewall.ssh_port_base },
  );
}
