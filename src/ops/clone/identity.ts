// The clone learns who its guest became at first boot (issue 9): the first-boot unit prints its new
// SSH host key fingerprints and machine-id on the serial console, which keeps no history, so the
// read starts as soon as the instance does and the `identity` step (after the balloon) awaits it.
import type { GuestResult } from "../../api/clone.js";
import type { GuestIdentity, SshHostKey } from "../../api/vm.js";
import type { SagaStep } from "../saga.js";
import type { CloneCtx } from "./steps.js";

/** What the first-boot block says, or null while the console has not shown all of it. */
export type ParseFirstboot = (text: string) => { machineId: string; keys: SshHostKey[] } | null;

/** How a console read ended: the identity, or why it is unknown. */
export type IdentityRead = { guest: GuestIdentity } | { warning: string } | { error: unknown };

/** The hostname the keys were made under (`root@gallifrey-dev`), as ssh-keygen -A names them. */
function hostnameOf(keys: SshHostKey[]): string | null {
  for (const k of keys) {
    const m = /^[^@\s]+@([A-Za-z0-9][A-Za-z0-9.-]{0,252})$/.exec(k.comment);
    if (m) return m[1]!;
  }
  return null;
}

// The console is the guest's to write: only values of these shapes reach the inventory and the
// admin's terminal (no escape sequences through a key comment).
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;
const KEY_TYPE = /^[A-Z0-9-]{1,32}$/;
const COMMENT = /^[\x20-\x7e]{0,255}$/;
const MACHINE_ID = /^[0-9a-f]{32}$/;

/** The identity the parser found, keeping only well-formed values. */
export function checkedIdentity(found: { machineId: string; keys: SshHostKey[] }): GuestIdentity {
  const keys = found.keys.filter(
    (k) =>
      Number.isInteger(k.bits) &&
      k.bits > 0 &&
      k.bits <= 65536 &&
      FINGERPRINT.test(k.fingerprint) &&
      KEY_TYPE.test(k.type) &&
      COMMENT.test(k.comment),
  );
  return {
    hostname: hostnameOf(keys),
    machineId: MACHINE_ID.test(found.machineId) ? found.machineId : null,
    sshHostKeys: keys.map(({ bits, fingerprint, comment, type }) => ({
      bits,
      fingerprint,
      comment,
      type,
    })),
  };
}

/** The customize result with what the first boot printed; the console's hostname wins. */
export function withIdentity(
  guest: GuestResult | undefined,
  found: GuestIdentity | undefined,
): GuestResult | undefined {
  if (!guest || !found) return guest;
  return {
    ...guest,
    hostname: found.hostname ?? guest.hostname,
    machineId: found.machineId,
    sshHostKeys: found.sshHostKeys,
  };
}

/** Only a guest whose customize installed the first-boot unit prints the block: else no wait. */
const printsFirstBoot = (ctx: CloneCtx) => ctx.guest?.operations.includes("ssh-host-keys") ?? false;

/** Starts reading the new instance's console (the start step calls it once the instance runs). */
export function beginIdentityRead(ctx: CloneCtx): void {
  const { console, parseFirstboot, config, dryRun, signal } = ctx.deps;
  const fqdn = ctx.entry?.fqdn;
  if (dryRun || !parseFirstboot || !fqdn || ctx.identity || !printsFirstBoot(ctx)) return;
  const stop = new AbortController();
  const seconds = config.guest.identity_timeout;
  const read = console
    .readUntil(
      fqdn,
      parseFirstboot,
      seconds * 1000,
      signal ? AbortSignal.any([signal, stop.signal]) : stop.signal,
    )
    .then(
      (found): IdentityRead =>
        found
          ? { guest: checkedIdentity(found) }
          : {
              warning: `the guest of ${fqdn} printed no first-boot block within ${seconds} s ([guest] identity_timeout); its host keys are unknown`,
            },
      (error: unknown) => ({ error }),
    );
  ctx.identity = {
    read,
    startedAt: Date.now(),
    stop: () => stop.abort(new Error("the instance was stopped")),
  };
}

/** Awaits the read begun at start, records what it found; never fails the clone but on cancel. */
export function identityStep(): SagaStep<CloneCtx> {
  return {
    name: "identity",
    title: "learn the guest's host keys from its console",
    async do(ctx, step) {
      const f = ctx.facts;
      if (!f?.start || ctx.deps.dryRun || !ctx.deps.parseFirstboot || !printsFirstBoot(ctx)) return;
      // After a crash the start step is not run again: read from now on.
      if (!ctx.identity) beginIdentityRead(ctx);
      const r = await ctx.identity!.read;
      if ("error" in r) {
        if (ctx.deps.signal?.aborted) throw r.error;
        const why = r.error instanceof Error ? r.error.message : String(r.error);
        return warn(
          ctx,
          `cannot read the console of ${f.target.fqdn}: ${why}; its host keys are unknown`,
        );
      }
      if ("warning" in r) return warn(ctx, r.warning);
      ctx.guest = withIdentity(ctx.guest, r.guest);
      const ms = Date.now() - ctx.identity!.startedAt;
      ctx.deps.events({
        type: "info",
        message: `the guest printed its ${r.guest.sshHostKeys.length} host keys ${(ms / 1000).toFixed(1)} s after it started`,
      });
      step.record({ guest: r.guest, ms });
      ctx.deps.inventory.recordGuest(f.target.name, r.guest);
    },
  };
}

function warn(ctx: CloneCtx, message: string): void {
  ctx.warnings.push(message);
  ctx.deps.events({ type: "warning", message });
}
