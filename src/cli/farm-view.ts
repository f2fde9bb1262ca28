// What the farm commands print: the plan per member, how each member ended, a farm's status.
import type {
  FarmAction,
  FarmPlan,
  FarmRunResult,
  FarmStatus,
  FarmSummary,
  FieldChange,
  MemberOutcome,
} from "../api/farm.js";
import { table } from "./table.js";

/** A value of the record or the spec: null is "no web site" for web, an unset variable in vars. */
function shown(field: string, v: unknown): string {
  if (v === null) return field.startsWith("vars.") ? "(unset)" : "(none)";
  return typeof v === "string" ? v : JSON.stringify(v);
}

export const fieldChange = (c: FieldChange) =>
  `${c.field}: ${shown(c.field, c.from)} → ${shown(c.field, c.to)}`;

function details(a: FarmAction): string[] {
  switch (a.action) {
    case "replace":
      return a.reasons.map(fieldChange);
    case "update":
      return a.changes.map(fieldChange);
    case "refuse":
      return [a.reason];
    case "orphan":
      return ["not in the spec any more: `farm up --prune` destroys it"];
    default:
      return [];
  }
}

/** One row per member, then one more per further field change, under the first. */
export function planTable(plan: FarmPlan): string {
  const rows = plan.actions.flatMap((a) => {
    const [first = "", ...more] = details(a);
    return [[a.action, a.member, a.name, first], ...more.map((d) => ["", "", "", d])];
  });
  const scope = plan.platform === null ? "all platforms" : `platform ${plan.platform}`;
  const head = `farm ${plan.farm} (${scope}):\n`;
  if (!rows.length) return `${head}  no member to act on\n`;
  return head + table(["ACTION", "MEMBER", "VM", "CHANGES"], rows);
}

const COUNTED = [
  ["create", "to create"],
  ["replace", "to replace"],
  ["update", "to update"],
  ["noop", "unchanged"],
  ["orphan", "orphaned"],
  ["refuse", "refused"],
] as const;

export function planSummary(plan: FarmPlan): string {
  const n = (action: FarmAction["action"]) =>
    plan.actions.filter((a) => a.action === action).length;
  return COUNTED.map(([action, words]) => `${n(action)} ${words}`).join(", ") + "\n";
}

/** The plan changes the farm: creates, replaces, updates, or orphans `up --prune` would destroy. */
export const planChanges = (plan: FarmPlan) =>
  plan.actions.some((a) => a.action !== "noop" && a.action !== "refuse");

export const planRefuses = (plan: FarmPlan) => plan.actions.filter((a) => a.action === "refuse");

/** A member that did not end as asked: `farm up` and `farm down` exit 1. */
export const memberFailed = (m: MemberOutcome) =>
  m.status === "failed" || m.status === "refused" || m.status === "undone";

export function runTable(verb: string, r: FarmRunResult): string {
  const rows = r.members.map((m) => [
    m.member,
    m.name,
    m.action,
    m.status,
    m.opId ?? "-",
    m.error ?? "",
  ]);
  const counts = new Map<string, number>();
  for (const m of r.members) counts.set(m.status, (counts.get(m.status) ?? 0) + 1);
  const summary = [...counts].map(([status, n]) => `${n} ${status}`).join(", ") || "no member";
  return (
    `farm ${verb} ${r.farm} (operation ${r.opId}): ${summary}\n` +
    (rows.length ? table(["MEMBER", "VM", "ACTION", "STATUS", "OPERATION", "ERROR"], rows) : "")
  );
}

const vars = (v: Record<string, string>) =>
  Object.entries(v)
    .map(([k, x]) => `${k}=${x}`)
    .join(" ") || "(none)";

export function statusText(s: FarmStatus): string {
  const rows = s.members.map((m) => [
    m.member,
    m.name,
    m.platform ?? "-",
    m.state,
    m.ip ?? "-",
    m.sshPort === null ? "-" : String(m.sshPort),
    m.webName ?? "-",
  ]);
  const drift = s.members.flatMap((m) => m.drift.map((d) => [m.member, d]));
  return (
    `farm ${s.farm} (spec ${s.file}, updated ${s.updatedAt})\n` +
    table(["MEMBER", "VM", "PLATFORM", "STATE", "ADDRESS", "SSH", "WEB"], rows) +
    "variables:\n" +
    table(
      ["MEMBER", "VARIABLES"],
      s.members.map((m) => [m.member, vars(m.vars)]),
    ) +
    (drift.length
      ? "drift against the record:\n" + drift.map(([m, d]) => `  ${m}: ${d}\n`).join("")
      : "no drift against the record\n")
  );
}

export function listTable(farms: FarmSummary[]): string {
  if (!farms.length) return "no farm (bring one up with `farmctl farm up SPEC`)\n";
  return table(
    ["FARM", "MEMBERS", "SPEC", "UPDATED"],
    farms.map((f) => [f.farm, String(f.members), f.file, f.updatedAt]),
  );
}
