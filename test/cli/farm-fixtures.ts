// A farm's spec file and the plans and results farmd would answer for it, made by the planner.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { OpEvent } from "../../src/api/events.js";
import type { FarmRunResult, MemberSpec } from "../../src/api/farm.js";
import type { NameHolder } from "../../src/ops/farm/plan.js";
import { member, plan, record } from "../ops/farm/plan-fixtures.js";

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

export const BUILD = member("build-centos7", { platform: "centos-7" });
export const REPO = member("repo", { source: "reprepro" });

/** What farmd plans for `members` over a farm recorded as `recorded`. */
export const planOf = (members: MemberSpec[], recorded: MemberSpec[], extra: NameHolder[] = []) =>
  plan(
    members,
    recorded.map((m) => record(m)),
    extra,
  );

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
