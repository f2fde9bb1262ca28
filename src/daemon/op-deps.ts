// The adapters one operation runs with: the host's, wrapped in farmd's locks and slots, and
// farmd's own state; assembled per operation so each has its own event sink and signal.
import type { EventSink, OpEvent } from "../api/events.js";
import { buildHost } from "./host.js";
import { findExecutable } from "../host/which.js";
import { systemResolver } from "../host/resolve.js";
import { probeTcp } from "../host/tcp-probe.js";
import { firstBootIdentity } from "../ops/guest/firstboot.js";
import type { AuditDeps } from "../ops/audit/checks.js";
import type { CloneDeps } from "../ops/clone/steps.js";
import type { ChildOps, FarmExtras } from "../ops/farm/deps.js";
import type { GuestPort } from "../ops/ports.js";
import type { Farms } from "../state/farms.js";
import type { Inventory } from "../state/inventory.js";
import type { Journal } from "../state/journal.js";
import type { Appliance } from "./appliance.js";
import { limitedGuest } from "./guest-slots.js";
import { limitedCopier, lockedFamilies, lockedGaneti, type HostLocks } from "./locks.js";
import type { Log, OperationsOptions } from "./operations.js";

export type OperationDeps = CloneDeps & Pick<AuditDeps, "journal" | "resolve"> & FarmExtras;

export interface DepsSources {
  o: OperationsOptions;
  locks: HostLocks;
  inventory: Inventory;
  journal: Journal;
  farms: Farms;
  children: ChildOps;
  appliance: Appliance;
}

export function hostOf(o: OperationsOptions, events: EventSink, dryRun: boolean) {
  return buildHost(o.config, {
    dryRun,
    events,
    stateDir: o.stateDir,
    runner: o.runner,
    resolve: o.resolve,
  });
}

/** Tests put a simulated libguestfs in deps: it is limited like the real one. */
export function guestPortOf(
  o: OperationsOptions,
  host: { guest?: GuestPort },
): GuestPort | undefined {
  return o.deps && "guest" in o.deps ? o.deps.guest : host.guest;
}

/** An operation waiting for a shared resource shows as "queued", with what it waits for. */
function queued(
  journal: Journal,
  events: EventSink,
  opId: () => string | undefined,
  what: string | null,
): void {
  const id = opId();
  if (!id) return;
  journal.setOperationState(id, what ? "queued" : "running");
  if (what) events({ type: "info", message: `waiting for ${what}` });
}

export function operationDeps(
  s: DepsSources,
  events: EventSink,
  dryRun: boolean,
  signal?: AbortSignal,
  opId?: () => string | undefined,
): OperationDeps {
  const { o, locks } = s;
  const host = hostOf(o, events, dryRun);
  const guest = guestPortOf(o, host);
  const { parallel } = o.config.guest;
  const waitingFor = (w: string | null) => queued(s.journal, events, opId ?? (() => undefined), w);
  return {
    config: o.config,
    ...host,
    families: lockedFamilies(host.families, locks),
    ganeti: lockedGaneti(host.ganeti, locks.ganeti),
    copier: limitedCopier(host.copier, locks.copies, (waiting) =>
      waitingFor(waiting ? `a copy slot ([copy] parallel = ${o.parallelCopies ?? 2})` : null),
    ),
    inventory: s.inventory,
    journal: s.journal,
    resolve: o.resolve ?? systemResolver,
    findExecutable: (t) => findExecutable(t),
    events,
    dryRun,
    signal,
    parseFirstboot: firstBootIdentity,
    children: s.children,
    farms: s.farms,
    tcpProbe: o.tcpProbe ?? probeTcp,
    ...o.deps,
    guest:
      guest &&
      limitedGuest(guest, {
        slots: locks.guests,
        appliance: s.appliance,
        signal,
        queued: (w) =>
          waitingFor(
            w === "slot"
              ? `a libguestfs slot ([guest] parallel = ${parallel})`
              : w && "the guestfs appliance farmd is building",
          ),
      }),
  };
}

/** farmd's log line for an operation's event: failures, warnings, steps done and the end. */
export function logEvent(log: Log, opId: string, event: OpEvent): void {
  if (event.type === "step-failed" || event.type === "undo-failed")
    log("error", `op ${opId}: ${event.step}: ${event.error}`);
  else if (event.type === "warning") log("warning", `op ${opId}: ${event.message}`);
  else if (event.type === "step-done" || event.type === "end")
    log(
      "info",
      `op ${opId}: ${event.type === "end" ? `ended ${event.state}` : `${event.step} done in ${event.ms} ms`}`,
    );
}
