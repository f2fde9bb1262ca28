// `farmctl destroy NAME`: the clone in reverse, as a saga. Reversible steps first (shutdown, config
// entries), then the one that is not (gnt-instance remove takes the disk with it), then the release.
import type { DestroyRequest, DestroyResult } from "../../api/destroy.js";
import { BadInput, EXIT, FarmError, NotFound, OperationFailed } from "../../api/errors.js";
import type { EventSink } from "../../api/events.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import type { Config } from "../../config/schema.js";
import type { Inventory, VmRecord } from "../../state/inventory.js";
import { nameConfig } from "../clone/preflight.js";
import { recordedScope, vmEntry } from "../entry.js";
import { learnEntry } from "../inventory/view.js";
import { leaseRanOut } from "../inventory/lease.js";
import { checkLabel, vmNames } from "../names.js";
import type { Families, GanetiPort, LvmPort, RevertData } from "../ports.js";
import { jobNeverRan, journalJob, settleJob } from "../ganeti-job.js";
import type { SagaStep } from "../saga.js";

export interface DestroyDeps {
  config: Config;
  lvm: LvmPort;
  ganeti: GanetiPort;
  families: Families;
  inventory: Inventory;
  events: EventSink;
  dryRun: boolean;
}

export interface DestroyCtx {
  opId: string;
  req: DestroyRequest;
  deps: DestroyDeps;
  record?: VmRecord;
  entry?: VmEntry;
  fqdn?: string;
  wasRunning?: boolean;
  lv?: { vg: string; name: string; uuid: string } | null;
  warnings: string[];
  /** Hand-written lines of a VM farmctl did not make, left in place. */
  leftInFiles: string[];
}

const need = <T>(v: T | undefined, what: string): T => {
  if (v === undefined) throw new Error(`destroy step ran before ${what} was known`);
  return v;
};

type FamilyKey = "proxy" | "firewall" | "dhcp" | "dns";

function familyStep(key: FamilyKey, title: string): SagaStep<DestroyCtx> {
  return {
    name: key,
    title,
    async do(ctx, step) {
      if (ctx.entry)
        await ctx.deps.families[key].remove(ctx.entry, (revert) => step.record({ revert }));
    },
    async undo(ctx, step) {
      if (ctx.entry)
        await ctx.deps.families[key].restore(ctx.entry, step.data.revert as RevertData | undefined);
    },
  };
}

export function destroySteps(): SagaStep<DestroyCtx>[] {
  return [
    {
      name: "preflight",
      title: "find the VM, its instance and its disk",
      planning: true,
      async do(ctx, step) {
        await destroyPreflight(ctx);
        step.record({ entry: ctx.entry, fqdn: ctx.fqdn, lv: ctx.lv, record: ctx.record });
      },
    },
    {
      name: "shutdown",
      title: "shut the instance down",
      async do(ctx, step) {
        const fqdn = need(ctx.fqdn, "the instance");
        const inst = (await ctx.deps.ganeti.listInstances()).find((i) => i.name === fqdn);
        ctx.wasRunning = inst?.status === "running";
        step.record({ wasRunning: ctx.wasRunning });
        if (ctx.wasRunning)
          await ctx.deps.ganeti.shutdown(fqdn, ctx.deps.config.ganeti.shutdown_timeout);
      },
      async undo(ctx, step) {
        const fqdn = need(ctx.fqdn, "the instance");
        const inst = (await ctx.deps.ganeti.listInstances()).find((i) => i.name === fqdn);
        if (step.data.wasRunning && inst && inst.status !== "running")
          await ctx.deps.ganeti.start(fqdn);
      },
    },
    familyStep("proxy", "remove the nginx site"),
    familyStep("firewall", "remove the SSH port forward"),
    familyStep("dhcp", "remove the DHCP host"),
    familyStep("dns", "remove the DNS record"),
    {
      name: "remove-instance",
      title: "remove the Ganeti instance and its disk",
      async do(ctx, step) {
        const fqdn = need(ctx.fqdn, "the instance");
        const { ganeti, lvm } = ctx.deps;
        // The point of no return, journaled before the remove is submitted: from here on, cancel
        // and crash recovery finish the destroy (this step runs again) instead of undoing it.
        step.record({ committed: true });
        // A remove submitted before a crash: let it end, then look at what is left.
        await settleJob(ganeti, step, "INSTANCE_REMOVE", fqdn);
        if ((await ganeti.listInstances()).some((i) => i.name === fqdn)) {
          step.record({ jobId: null });
          try {
            await ganeti.remove(fqdn, journalJob(step));
          } catch (err) {
            // Refused at submit or at Ganeti's checks: nothing was removed, so it can still be undone.
            if (jobNeverRan(err, typeof step.data.jobId === "number"))
              step.record({ committed: false });
            throw err;
          }
        }
        // Ganeti removes a plain disk with its instance; one left behind goes only if it is ours.
        const lv = ctx.lv;
        if (lv && !ctx.deps.dryRun) {
          const still = (await lvm.list(lv.vg)).find((l) => l.uuid === lv.uuid);
          if (still) await lvm.removeChecked(still.vg, still.name, still.uuid);
        }
      },
    },
    {
      name: "release",
      title: "release the address, MAC and port",
      async do(ctx) {
        if (!ctx.deps.dryRun && ctx.record) ctx.deps.inventory.delete(ctx.record.name);
      },
    },
  ];
}

async function destroyPreflight(ctx: DestroyCtx): Promise<void> {
  const { config, inventory, ganeti, lvm } = ctx.deps;
  const name = checkLabel(ctx.req.name, "VM name");
  const record = inventory.get(name);
  const instances = await ganeti.listInstances();
  if (!record) {
    const matches = instances.filter(
      (i) => i.name.startsWith(`${name}.`) && i.name.endsWith(`.${config.names.domain}`),
    );
    if (matches.length === 0)
      throw new NotFound(
        `no VM '${name}' in the inventory or in Ganeti`,
        "`farmctl list` shows the VMs",
      );
    if (!ctx.req.force) {
      throw new BadInput(
        `VM '${name}' (${matches.map((m) => m.name).join(", ")}) was not made by farmctl`,
        `farmctl destroys only the VMs it made; add --force to remove this one's instance and disk anyway`,
      );
    }
    if (matches.length > 1)
      throw new BadInput(
        `several instances are called '${name}': ${matches.map((m) => m.name).join(", ")}`,
        "remove the one you mean with gnt-instance remove",
      );
    ctx.fqdn = matches[0]!.name;
    ctx.warnings.push(
      `${ctx.fqdn} was not made by farmctl: its hand-written config lines are left for you to remove`,
    );
    // Name them, so the admin knows exactly what to remove by hand.
    const learned = await learnEntry(matches[0]!, ctx.deps);
    for (const family of ["dns", "dhcp", "firewall", "proxy"] as const) {
      if (!learned) break;
      for (const l of (await ctx.deps.families[family].inspect(learned.entry)).lines) {
        if (!l.farmctl) ctx.leftInFiles.push(`${l.path}: ${l.text.trimEnd()}`);
      }
    }
  } else {
    if (record.state !== "ready")
      throw new BadInput(
        `VM '${name}' is still being made (operation ${record.opId})`,
        `wait for it, or cancel it with \`farmctl cancel ${record.opId}\``,
      );
    // Only this VM's own entries and disk: never the VM it was cloned from.
    ctx.record = record;
    ctx.fqdn = record.fqdn;
    ctx.entry = vmEntry(
      vmNames(record.name, record.group, nameConfig(config)),
      record,
      record.webName,
      config,
      recordedScope(record),
    );
  }
  const inst = instances.find((i) => i.name === ctx.fqdn);
  if (inst) {
    const disks = await ganeti.instanceDisks(inst.name);
    const lvs = await lvm.list(config.lvm.vg);
    const own = disks
      .map((d) => lvs.find((l) => l.vg === d.vg && l.name === d.lv))
      .filter((l) => l !== undefined);
    // The disk Ganeti will delete must be the one farmctl made for this VM (same UUID).
    if (record?.lvUuid && !own.some((l) => l.uuid === record.lvUuid)) {
      throw new OperationFailed(
        `instance ${inst.name} does not use the disk farmctl made for it (UUID ${record.lvUuid})`,
        `check it with gnt-instance info ${inst.name}; farmctl will not remove a disk it did not make`,
      );
    }
    ctx.lv = own[0] ? { vg: own[0].vg, name: own[0].name, uuid: own[0].uuid } : null;
  } else {
    ctx.lv = record?.lvUuid
      ? { vg: record.vg ?? config.lvm.vg, name: record.lvName ?? "", uuid: record.lvUuid }
      : null;
    ctx.warnings.push(`instance ${ctx.fqdn} is not in Ganeti any more`);
  }
  // Last, after every await: a renew answered before this point wins over the reaper's destroy.
  if (ctx.req.expiredLease) checkLeaseStillOver(inventory.get(name));
}

/** The reaper's destroy: the lease must still have run out (a renew may have come meanwhile). */
function checkLeaseStillOver(record: VmRecord | null): void {
  if (record && leaseRanOut(record.expiresAt)) return;
  throw new FarmError(
    "lease_renewed",
    record
      ? `the lease of VM '${record.name}' was renewed (it now ends ${record.expiresAt ?? "never"})`
      : "the VM left the inventory",
    EXIT.tempFail,
  );
}

export function destroyResult(ctx: DestroyCtx): DestroyResult {
  return {
    opId: ctx.opId,
    name: ctx.req.name,
    instance: need(ctx.fqdn, "the instance"),
    ip: ctx.entry?.ip ?? null,
    lv: ctx.lv?.name ?? null,
    madeByFarmctl: Boolean(ctx.record),
    leftInFiles: ctx.leftInFiles,
    warnings: ctx.warnings,
  };
}
