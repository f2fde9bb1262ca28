// The customize step (issue 9): the new disk's guest stops being its source (hostname, machine-id,
// SSH host keys, network state, templated files), offline, before it ever boots. It works on the
// new LV only, its UUID checked just before: never on the source or the snapshot.
import type { GuestResult } from "../../api/clone.js";
import type { SagaStep, StepHandle } from "../saga.js";
import type { GuestVm } from "../guest/files.js";
import { describeEdit, planGuest, type GuestPlan } from "../guest/plan.js";
import { hostsLine } from "../guest/hosts.js";
import { ownLvNow } from "./own-lv.js";
import type { GuestSession } from "../ports.js";
import type { CloneCtx } from "./steps.js";

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`customize ran before ${what} was known`);
  return v;
}

/** The VM's values guest templates see. */
export function guestVm(ctx: CloneCtx, alloc = must(ctx.alloc, "the allocation")): GuestVm {
  const f = must(ctx.facts, "preflight");
  return {
    name: f.target.name,
    group: f.target.group,
    fqdn: f.target.fqdn,
    ip: alloc.ip,
    mac: alloc.mac,
    sshPort: alloc.sshPort,
    source: f.source.fqdn,
    // A member's farm and key (issue 10); null for a plain clone.
    farm: ctx.req.farm?.farm ?? null,
    member: ctx.req.farm?.member ?? null,
  };
}

/** True when this clone changes the guest at all. */
export const customizing = (ctx: CloneCtx) =>
  ctx.req.customize !== false && ctx.deps.config.guest.customize.length > 0;

/** Renders every template the step would, so a missing --var fails at preflight. */
export function checkGuestTemplates(ctx: CloneCtx, vm: GuestVm): void {
  if (!customizing(ctx)) return;
  planGuest({ ...planInput(ctx, vm), os: null });
}

const planInput = (ctx: CloneCtx, vm: GuestVm) => ({
  config: ctx.deps.config.guest,
  templates: ctx.deps.templates,
  vm,
  vars: ctx.req.vars ?? {},
});

/** /etc/hosts in a dry run: its 127.0.1.1 line, as the guest's file is not read. */
const describeHosts = (vm: GuestVm) => ({
  path: "guest:/etc/hosts",
  diff: `--- guest:/etc/hosts\n+++ guest:/etc/hosts\n@@ the 127.0.1.1 line (added after 127.0.0.1 when missing) @@\n+${hostsLine(vm.fqdn, vm.name)}\n`,
});

const done = (plan: GuestPlan): GuestResult => ({
  operations: plan.operations,
  skipped: null,
  hostname: plan.hostname,
  files: plan.files,
  machineId: null,
  sshHostKeys: null,
});

const skipped = (reason: string): GuestResult => ({
  operations: [],
  skipped: reason,
  hostname: null,
  files: [],
  machineId: null,
  sshHostKeys: null,
});

/** Inspects, plans from what the guest holds, applies; a disk without Linux is a warning. */
async function customizeGuest(
  ctx: CloneCtx,
  session: GuestSession,
  vm: GuestVm,
): Promise<GuestResult | { guest: GuestResult; warning: string }> {
  const os = await session.inspect();
  if (!os)
    return {
      guest: skipped("no Linux filesystem found"),
      warning: `${must(ctx.facts, "preflight").source.name} has no Linux filesystem libguestfs recognises; the guest is not customized`,
    };
  const hostname = ctx.deps.config.guest.customize.includes("hostname");
  const plan = planGuest({
    ...planInput(ctx, vm),
    os,
    hosts: hostname ? await session.readFile("/etc/hosts") : undefined,
  });
  await session.apply(plan.edits);
  return done(plan);
}

/** Kills the guestfish a run of this step journaled, if it still runs on the new LV. */
async function stopLeftover(ctx: CloneCtx, step: StepHandle): Promise<void> {
  const { pid, device } = step.data as { pid?: number; device?: string };
  if (pid && device) await ctx.deps.processes.killLeftover(pid, [device]);
}

export const customizeStep: SagaStep<CloneCtx> = {
  name: "customize",
  title: "prepare the guest (hostname, machine-id, SSH host keys, network state, files)",
  async do(ctx, step) {
    const f = must(ctx.facts, "preflight");
    const target = must(ctx.targetLv, "the new disk");
    const { deps } = ctx;
    const finish = (guest: GuestResult, warning?: string) => {
      ctx.guest = guest;
      step.record({ guest });
      if (!warning) return;
      ctx.warnings.push(warning);
      deps.events({ type: "warning", message: warning });
    };
    if (ctx.req.customize === false) return finish(skipped("--no-customize"));
    if (!customizing(ctx)) return finish(skipped("[guest] customize is empty"));
    const vm = guestVm(ctx);
    if (deps.dryRun) {
      // The new disk exists only in the plan: show what would be written, /etc/hosts as its line.
      const plan = planGuest({ ...planInput(ctx, vm), os: null });
      const shown = plan.edits.map(describeEdit);
      const hostname = shown.findIndex((d) => d.path === "guest:/etc/hostname");
      if (hostname >= 0) shown.splice(hostname + 1, 0, describeHosts(vm));
      for (const d of shown) deps.events({ type: "file-diff", ...d });
      return finish(done(plan));
    }
    if (!deps.guest)
      return finish(
        skipped("no libguestfs adapter"),
        `this farmd has no libguestfs adapter; ${f.target.name}'s guest is not customized`,
      );
    const own = await ownLvNow(deps.lvm, target);
    // Resumed after farmd died mid-step: the old guestfish must not write beside the new one.
    await stopLeftover(ctx, step);
    const device = deps.lvm.devicePath(own.vg, own.name);
    const session = await deps.guest.open(device, (pid) => step.record({ pid, device }));
    // A failure closes the appliance too, without its own error hiding the first one.
    const outcome = await customizeGuest(ctx, session, vm).catch(async (err: unknown) => {
      await session.close().catch(() => undefined);
      throw err;
    });
    // Unmount and sync: a failure here fails the step like any other.
    await session.close();
    if ("warning" in outcome) return finish(outcome.guest, outcome.warning);
    finish(outcome);
  },
  // A farmd killed mid-step leaves guestfish holding the new LV: stop it by its journaled PID (the
  // LV itself goes with create-lv's undo, which also stops whatever else still holds it).
  async undo(ctx, step) {
    await stopLeftover(ctx, step);
  },
};
