// A member as the clone it stands for: the same request `farmctl clone` sends, plus its membership.
import type { CloneRequest } from "../../api/clone.js";
import type { MemberSpec, ResolvedFarm } from "../../api/farm.js";

export function memberClone(farm: ResolvedFarm, m: MemberSpec): CloneRequest {
  return {
    source: m.source,
    name: m.name,
    ...(m.group !== undefined ? { group: m.group } : {}),
    ...(m.memory !== undefined ? { memory: m.memory } : {}),
    ...(m.balloon !== undefined ? { balloon: m.balloon } : {}),
    ...(m.web !== undefined ? { web: m.web } : {}),
    ...(m.customize !== undefined ? { customize: m.customize } : {}),
    start: m.start,
    vars: m.vars,
    farm: { farm: farm.name, member: m.key, spec: m, specHash: farm.specHash },
  };
}
