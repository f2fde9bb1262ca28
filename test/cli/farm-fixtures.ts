// A farm's spec file and the plans and results farmd would answer for it, made by the planner.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OpEvent } from "../../src/api/events.js";
import type { FarmRunResult, MemberSpec, ResolvedFarm } from "../../src/api/farm.js";
import { planFarm, type NameHolder, type RecordedMember } from "../../src/ops/farm/plan.js";

export const SPEC = `name = "rel-3-2"
required_vars = ["release"]

[vars]
branch = "release/3.2"

[defaults]
group = "staging"
memory = "4G"

[platforms.centos-7]
source = "builder-centos7"

[members.build-centos7]
platform = "centos-7"

[members.repo]
source = "reprepro"
web = true
`;

export function writeSpec(dir: string): string {
  const file = join(dir, "rel-3-2.toml");
  writeFileSync(file, SPEC);
  return file;
}

const member = (key: string, over: Partial<MemberSpec> = {}): MemberSpec => ({
  key,
  platform: null,
  name: `rel-3-2-${key}`,
  source: "reprepro",
  group: "staging",
  memory: "4G",
  start: true,
  protect: false,
  vars: { branch: "release/3.2", release: "3.2.0" },
  ...over,
});

export const BUILD = member("build-centos7", { platform: "centos-7", source: "builder-centos7" });
export const REPO = member("repo");

const farm = (members: MemberSpec[]): ResolvedFarm => ({
  name: "rel-3-2",
  file: "/srv/rel-3-2.toml",
  run: { onError: "continue", wait: "ssh", waitTimeoutSec: 600 },
  specHash: "c0ffee",
  members,
});

const record = (m: MemberSpec): RecordedMember => ({
  farm: "rel-3-2",
  member: m.key,
  name: m.name,
  spec: m,
  specHash: "c0ffee",
});

/** What farmd plans for `members` over a farm recorded as `recorded`. */
export function planOf(members: MemberSpec[], recorded: MemberSpec[], extra: NameHolder[] = []) {
  const holders = new Map<string, NameHolder>(
    recorded.map((m) => {
      const claim = { farm: "rel-3-2", member: m.key };
      return [m.name, { name: m.name, inventory: claim, tags: claim }];
    }),
  );
  for (const h of extra) holders.set(h.name, h);
  return planFarm(farm(members), recorded.map(record), holders, null);
}

export const handMade = (name: string): NameHolder => ({
  name,
  inventory: null,
  tags: { farm: null, member: null },
});

/** A farm operation's events as F4's farmd emits them: member start, its copy, member end. */
export function runEvents(opId: string, result: FarmRunResult): OpEvent[] {
  const events = result.members.flatMap((m) => [
    {
      type: "member",
      member: m.member,
      name: m.name,
      action: m.action,
      status: "started",
      opId: m.opId,
    },
    {
      type: "member-event",
      member: m.member,
      opId: m.opId,
      event: {
        type: "copy-progress",
        bytes: 2 ** 30,
        total: 2 ** 31,
        rateBytesPerSec: 1e8,
        etaMs: 1000,
      },
    },
    ...(m.error
      ? [
          {
            type: "member-event",
            member: m.member,
            opId: m.opId,
            event: { type: "step-failed", seq: 0, step: "source", error: m.error },
          },
        ]
      : []),
    {
      type: "member",
      member: m.member,
      name: m.name,
      action: m.action,
      status: m.status,
      opId: m.opId,
      ...(m.error ? { error: m.error } : {}),
    },
  ]);
  return [...events, { type: "end", opId, state: "done", result }] as unknown as OpEvent[];
}
