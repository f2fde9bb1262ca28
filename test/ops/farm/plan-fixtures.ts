// Recorded states for the planner's tests: members, the farm, its record, the host's name holders.
import type { MemberSpec, ResolvedFarm } from "../../../src/api/farm.js";
import { planFarm, type NameHolder, type RecordedMember } from "../../../src/ops/farm/plan.js";
export const member = (key: string, over: Partial<MemberSpec> = {}): MemberSpec => ({
  key,
  platform: null,
  name: `rel-3-2-${key}`,
  source: "builder-centos7",
  group: "staging",
  memory: "4G",
  balloon: "1G",
  start: true,
  protect: false,
  vars: { release: "3.2.0", git_rev: "abc123" },
  ...over,
});

export const farmOf = (members: MemberSpec[], specHash = "spec-1"): ResolvedFarm => ({
  name: "rel-3-2",
  file: "/srv/farms/rel-3-2.toml",
  run: { onError: "continue", wait: "ssh", waitTimeoutSec: 600 },
  specHash,
  members,
});

export const record = (m: MemberSpec, farm = "rel-3-2"): RecordedMember => ({
  farm,
  member: m.key,
  name: m.name,
  spec: m,
  specHash: "spec-0",
});

/** The host as the daemon sees it: each recorded member's instance tagged as the record says. */
export function hostOf(
  recorded: RecordedMember[],
  extra: NameHolder[] = [],
): Map<string, NameHolder> {
  const holders = recorded.map((r) => {
    const claim = { farm: r.farm, member: r.member };
    return { name: r.name, inventory: claim, tags: claim };
  });
  return new Map([...holders, ...extra].map((h) => [h.name, h]));
}

export const plan = (members: MemberSpec[], recorded: RecordedMember[], extra: NameHolder[] = []) =>
  planFarm(farmOf(members), recorded, hostOf(recorded, extra), null);
