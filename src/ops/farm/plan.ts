// The planner of `farm plan` and `farm up`: what to do per member, from the resolved spec, the
// farm's record and what holds each name on the host. Pure: the daemon gathers, this decides.
import type { FarmAction, FarmPlan, MemberSpec, ResolvedFarm } from "../../api/farm.js";
import { BadInput } from "../../api/errors.js";
import { canonicalJson as canonical, sha256Hex } from "./canonical.js";
import { diffMember } from "./member-diff.js";
import { ownership } from "./ownership.js";

/** A member as the inventory recorded it when last applied (Inventory.members). */
export interface RecordedMember {
  farm: string;
  member: string;
  name: string;
  spec: MemberSpec;
  specHash: string;
}

/** What holds a member's name on the host right now. */
export interface NameHolder {
  name: string;
  /** The inventory's row of that name; null: none. */
  inventory: { farm: string | null; member: string | null } | null;
  /** The instance's farmctl:farm / farmctl:member tags; null: no instance of that name. */
  tags: { farm: string | null; member: string | null } | null;
}

/**
 * `holders`: by short name, every name the spec or the record uses that something holds (a
 * name absent is free). `platform`: only that platform's members (null: all). Actions in spec
 * order, then the orphans by member key.
 */
export function planFarm(
  farm: ResolvedFarm,
  recorded: RecordedMember[],
  holders: Map<string, NameHolder>,
  platform: string | null,
): FarmPlan {
  const ours = recorded.filter((r) => r.farm === farm.name);
  checkPlatform(farm, ours, platform);
  const inPlatform = (p: string | null) => platform === null || p === platform;
  const byKey = new Map(ours.map((r) => [r.member, r]));
  const actions: FarmAction[] = farm.members
    .filter((m) => inPlatform(m.platform))
    .map((m) => memberAction(farm.name, m, byKey.get(m.key), holders));
  const keys = new Set(farm.members.map((m) => m.key));
  const orphans = ours
    .filter((r) => !keys.has(r.member) && inPlatform(r.spec.platform))
    .sort((a, b) => (a.member < b.member ? -1 : 1))
    .map((r) => orphanAction(farm.name, r, holders));
  return {
    farm: farm.name,
    specHash: farm.specHash,
    basis: farmBasis(ours),
    platform,
    actions: [...actions, ...orphans],
  };
}

function memberAction(
  farm: string,
  m: MemberSpec,
  rec: RecordedMember | undefined,
  holders: Map<string, NameHolder>,
): FarmAction {
  const at = { member: m.key, name: m.name };
  const target = ownership(holders.get(m.name), m.name, farm, m.key, rec?.name === m.name);
  if (!rec) {
    return target.kind === "free"
      ? { action: "create", ...at }
      : { action: "refuse", ...at, reason: refusal(target, m.name) };
  }
  const held = ownership(holders.get(rec.name), rec.name, farm, m.key, true);
  if (held.kind === "foreign") return { action: "refuse", ...at, reason: held.reason };
  const { fixed, inPlace } = readable(rec.spec)
    ? diffMember(rec.spec, m)
    : { fixed: [{ field: "record", from: "unreadable", to: "the spec's member" }], inPlace: [] };
  // Renamed: the new name must be free as for a create.
  if (rec.name !== m.name && target.kind !== "free")
    return { action: "refuse", ...at, reason: refusal(target, m.name) };
  if (held.kind === "missing")
    fixed.unshift({ field: "instance", from: "missing from Ganeti", to: "cloned again" });
  if (fixed.length) return { action: "replace", ...at, reasons: [...fixed, ...inPlace] };
  if (inPlace.length) return { action: "update", ...at, changes: inPlace };
  return { action: "noop", ...at };
}

/** A record whose member_spec could not be read (the inventory gives {}): replaced, never diffed. */
function readable(spec: MemberSpec): boolean {
  return (
    typeof spec?.name === "string" &&
    typeof spec.source === "string" &&
    typeof spec.vars === "object" &&
    spec.vars !== null
  );
}

function refusal(o: ReturnType<typeof ownership>, name: string): string {
  if (o.kind === "foreign") return o.reason;
  // "ours"/"missing" of a name no record of this member uses: the inventory and Ganeti disagree.
  return `${name} is held by a VM this member has no record of`;
}

/** An orphan is destroyed only by `up --prune`, and only if it is still wholly this farm's. */
function orphanAction(
  farm: string,
  r: RecordedMember,
  holders: Map<string, NameHolder>,
): FarmAction {
  const held = ownership(holders.get(r.name), r.name, farm, r.member, true);
  const at = { member: r.member, name: r.name };
  return held.kind === "foreign"
    ? { action: "refuse", ...at, reason: held.reason }
    : { action: "orphan", ...at };
}

function checkPlatform(farm: ResolvedFarm, recorded: RecordedMember[], platform: string | null) {
  if (platform === null) return;
  const known = new Set(
    [...farm.members, ...recorded.map((r) => r.spec)].flatMap((m) => m.platform ?? []),
  );
  if (!known.has(platform))
    throw new BadInput(
      `--platform ${platform}: no member of farm '${farm.name}' has that platform`,
      known.size
        ? `use one of ${[...known].sort().join(", ")}, or leave --platform and FARM_PLATFORM empty for all`
        : `the farm's members have no platform: leave --platform and FARM_PLATFORM empty`,
      { field: "platform" },
    );
}

/** sha256 of the farm's recorded members: changes with any up or down that touched the farm. */
export function farmBasis(recorded: RecordedMember[]): string {
  const sorted = [...recorded].sort((a, b) => (a.member < b.member ? -1 : 1));
  return sha256Hex(
    canonical(sorted.map(({ member, name, spec, specHash }) => ({ member, name, spec, specHash }))),
  );
}

/**
 * A plan saved with `farm plan -o` is applied only if planning again now gives the same: same
 * farm, spec and variables, platform, record, and the same actions (a name taken since).
 */
export function checkSavedPlan(saved: FarmPlan, fresh: FarmPlan): void {
  const changed: string[] = [];
  if (saved.farm !== fresh.farm)
    changed.push(`it is a plan of farm '${saved.farm}', not of '${fresh.farm}'`);
  else {
    if (saved.specHash !== fresh.specHash) changed.push("the spec or its variables changed");
    if (saved.platform !== fresh.platform)
      changed.push(
        `it was made for ${saved.platform === null ? "all platforms" : `--platform ${saved.platform}`}, ` +
          `not ${fresh.platform === null ? "all platforms" : `--platform ${fresh.platform}`}`,
      );
    if (saved.basis !== fresh.basis)
      changed.push("the farm's recorded members changed (another `farm up` or `farm down` ran)");
    if (!changed.length) changed.push(...actionChanges(saved.actions, fresh.actions));
  }
  if (changed.length)
    throw new BadInput(
      `the saved plan of farm '${saved.farm}' is stale: ${changed.join("; ")}`,
      "run `farmctl farm plan` again (with -o to save the new plan), check it, then `farm up --plan` it",
      { stale: changed },
    );
}

/** What the host changed under an otherwise equal plan: per member, planned vs now. */
function actionChanges(saved: FarmAction[], fresh: FarmAction[]): string[] {
  const now = new Map(fresh.map((a) => [a.member, a]));
  const before = new Map(saved.map((a) => [a.member, a]));
  const out: string[] = [];
  for (const m of new Set([...before.keys(), ...now.keys()])) {
    const [a, b] = [before.get(m), now.get(m)];
    if (canonical(a) === canonical(b)) continue;
    const [was, is] = [a?.action ?? "nothing", b?.action ?? "nothing"];
    out.push(
      was === is
        ? `member '${m}': its ${was} is not the one planned`
        : `member '${m}' was planned as ${was}, is now ${is}`,
    );
  }
  if (!out.length && canonical(saved) !== canonical(fresh)) out.push("the members' order changed");
  return out;
}
