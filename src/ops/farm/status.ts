// `farm status` and `farm list`: the farms' records against the host (Ganeti's state and tags).
import type { FarmStatus, FarmSummary, MemberStatus, ResolvedFarm } from "../../api/farm.js";
import { NotFound } from "../../api/errors.js";
import { parseSize } from "../../config/size.js";
import { formatSize } from "../../config/size.js";
import { parseFarmTags } from "../../host/ganeti-tags.js";
import type { Farms } from "../../state/farms.js";
import type { CloneDeps } from "../clone/steps.js";
import { diffMember } from "./member-diff.js";
import type { RecordedMember } from "./plan.js";

export interface StatusDeps extends CloneDeps {
  farms: Farms;
}

export function listFarms(deps: StatusDeps): FarmSummary[] {
  return deps.farms.list().map((f) => ({
    farm: f.name,
    members: deps.inventory.members(f.name).length,
    file: f.file,
    updatedAt: f.updatedAt,
  }));
}

export async function farmStatus(deps: StatusDeps, name: string): Promise<FarmStatus> {
  const record = deps.farms.get(name);
  if (!record) throw new NotFound(`no farm '${name}'`, "`farmctl farm list` shows the farms");
  const order = record.spec?.members.map((m) => m.key) ?? [];
  const rank = (m: RecordedMember) => (order.includes(m.member) ? order.indexOf(m.member) : 1e9);
  const members = deps.inventory.members(name).sort((a, b) => rank(a) - rank(b));
  const [instances, tags] = [await deps.ganeti.listInstances(), await deps.ganeti.instanceTags()];
  return {
    farm: name,
    specHash: record.specHash,
    file: record.file,
    updatedAt: record.updatedAt,
    members: members.map((m): MemberStatus => {
      const vm = deps.inventory.get(m.name);
      const inst = vm ? instances.find((i) => i.name === vm.fqdn) : undefined;
      const drift: string[] = [];
      if (!inst) drift.push(`Ganeti has no instance ${vm?.fqdn ?? m.name}`);
      else {
        const t = parseFarmTags(tags.get(inst.name) ?? []);
        if (t.farm !== name || t.member !== m.member)
          drift.push(
            `Ganeti tags say farm ${t.farm ?? "(none)"}, member ${t.member ?? "(none)"}; the record says ${name}, ${m.member}`,
          );
        const want = parseSize(m.spec.memory ?? deps.config.ganeti.memory, "memory");
        if (inst.memoryBytes !== null && inst.memoryBytes !== want)
          drift.push(
            `memory is ${formatSize(inst.memoryBytes)} in Ganeti, ${formatSize(want)} in the record`,
          );
      }
      const stale = specDrift(m, record.spec, record.specHash);
      if (stale) drift.push(stale);
      return {
        member: m.member,
        name: m.name,
        platform: m.spec.platform,
        state: inst?.status ?? "missing",
        ip: vm?.ip ?? null,
        sshPort: vm?.sshPort ?? null,
        webName: vm?.webName ?? null,
        vars: m.spec.vars,
        drift,
      };
    }),
  };
}

/**
 * The member against the spec the farm last applied: a later `up` that left it unchanged (its
 * own options and variables the same, another member's changed) is no drift; a member that spec
 * would change (not planned: another --platform, or it failed) names the fields that differ.
 */
function specDrift(m: RecordedMember, spec: ResolvedFarm | null, specHash: string): string | null {
  const how = "(run `farm plan` to see the difference)";
  if (!spec)
    return m.specHash === specHash ? null : `applied from another version of the spec ${how}`;
  const wanted = spec.members.find((w) => w.key === m.member);
  if (!wanted) return "not in the spec last applied: an orphan (`farm up --prune` destroys it)";
  const { fixed, inPlace } = diffMember(m.spec, wanted);
  const fields = [...fixed, ...inPlace].map((c) => c.field);
  return fields.length ? `the spec last applied changes ${fields.join(", ")} ${how}` : null;
}
