// The clone's dependency graph. The new disk is adopted by Ganeti while it is still empty (Ganeti
// refuses an open LV, so before the copy, not during it), beside the snapshot of the source; the
// copy then writes the adopted LV, found by its UUID. The host's entries (dns, dhcp, firewall, then
// proxy once the name resolves) are written meanwhile, as none of them needs the disk.
import type { SagaStep } from "../saga.js";

/** What each clone step needs done before it starts (by name; each declared before it). */
export const CLONE_NEEDS: Readonly<Record<string, readonly string[]>> = {
  preflight: [],
  allocate: ["preflight"],
  snapshot: ["allocate"],
  "create-lv": ["allocate"],
  dns: ["allocate"],
  dhcp: ["allocate"],
  // Ganeti resolves the instance's name when it adds it: the DNS record comes first.
  adopt: ["dns", "create-lv"],
  copy: ["snapshot", "adopt"],
  "drop-snapshot": ["copy"],
  customize: ["copy"],
  firewall: ["allocate"],
  // The guest asks for its address at boot and must be reachable on its SSH port once up.
  start: ["customize", "dhcp", "firewall"],
  balloon: ["start"],
  identity: ["start"],
  // nginx resolves the upstream (the VM's name) when it checks and loads the site.
  proxy: ["dns"],
  // The VM is ready only once every other step is done.
  record: ["balloon", "identity", "proxy", "drop-snapshot"],
};

/** The steps with their needs from `graph`; a step the graph does not name is refused. */
export function withNeeds<C>(
  steps: SagaStep<C>[],
  graph: Readonly<Record<string, readonly string[]>>,
): SagaStep<C>[] {
  return steps.map((step) => {
    const needs = graph[step.name];
    if (!needs) throw new Error(`clone step '${step.name}' is not in the clone's graph`);
    return { ...step, needs: [...needs] };
  });
}
