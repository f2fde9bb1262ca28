// Whose a VM name is: a farm acts only on a VM that both the inventory and its Ganeti tags call its own.
import type { NameHolder } from "./plan.js";

/** Membership as one source (the inventory, or the instance's Ganeti tags) tells it. */
interface Claim {
  farm: string | null;
  member: string | null;
}

export type Ownership =
  /** Nothing holds the name: neither the inventory nor Ganeti. */
  | { kind: "free" }
  /** This farm's member `key` by the inventory and by the tags. */
  | { kind: "ours" }
  /** Recorded as this member, but Ganeti has no instance of that name any more. */
  | { kind: "missing" }
  /** Anything else: never touched; `reason` says whose it is. */
  | { kind: "foreign"; reason: string };

const claims = (c: Claim, farm: string, key: string) => c.farm === farm && c.member === key;

function whose(c: Claim, farm: string): string {
  if (c.farm === null) return "a VM of no farm";
  const member = c.member === null ? "no member" : `member '${c.member}'`;
  return c.farm === farm ? `this farm's ${member}` : `${member} of farm '${c.farm}'`;
}

/**
 * `holder` undefined: nothing holds `name`. A recorded member's own name is checked with
 * `recorded` true: the record is the inventory's word even when the caller gave no holder.
 */
export function ownership(
  holder: NameHolder | undefined,
  name: string,
  farm: string,
  key: string,
  recorded = false,
): Ownership {
  const inventory = holder?.inventory ?? (recorded ? { farm, member: key } : null);
  const tags = holder?.tags ?? null;
  if (!inventory && !tags) return { kind: "free" };
  if (inventory && claims(inventory, farm, key)) {
    if (!tags) return { kind: "missing" };
    if (claims(tags, farm, key)) return { kind: "ours" };
    return {
      kind: "foreign",
      reason:
        `the inventory records ${name} as member '${key}' of farm '${farm}' but its Ganeti tags say ` +
        `${whose(tags, farm)}: tags and record disagree`,
    };
  }
  if (inventory) {
    const made = inventory.farm === null ? " (made by farmctl clone or import)" : "";
    return { kind: "foreign", reason: `${name} is ${whose(inventory, farm)}${made}` };
  }
  if (tags!.farm === null)
    return {
      kind: "foreign",
      reason: `${name} is a Ganeti instance farmctl has no record of (made by hand?)`,
    };
  return {
    kind: "foreign",
    reason:
      `${name}'s Ganeti tags say it is ${whose(tags!, farm)} but the inventory has no record of it: ` +
      `tags and record disagree`,
  };
}
