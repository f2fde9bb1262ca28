// `farm status` and `farm list`: the farms' records against the host (Ganeti's state and tags).
import type { FarmStatus, FarmSummary, MemberStatus } from "../../api/farm.js";
import { NotFound } from "../../api/errors.js";
import { parseSize } from "../../config/size.js";
import { formatSize } from "../../config/size.js";
import { parseFarmTags } from "../../host/ganeti-tags.js";
import type { Farms } from "../../state/farms.js";
import type { CloneDeps } from "../clone/steps.js";
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
      if (m.specHash !== record.specHash)
        drift.push(
          "applied from another version of the spec (run `farm plan` to see the difference)",
        );
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
