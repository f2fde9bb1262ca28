// The clone's dependency graph: the disk branch (snapshot → create-lv → copy → drop-snapshot →
// customize) runs while the host branch (dns, dhcp, firewall, then proxy once the name resolves) is
// written, as none of those needs the disk; the instance is adopted once its name resolves and its
// disk is ready.
import type { SagaStep } from "../saga.js";

/** What each clone step needs done before it starts (by name; each declared before it). */
export const CLONE_NEEDS: Readonly<Record<string, readonly string[]>> = {
  preflight: [],
  allocate: ["preflight"],
  snapshot: ["allocate"],
  "create-lv": ["snapshot"],
  copy: ["create-lv"],
  "drop-snapshot": ["copy"],
  customize: ["drop-snapshot"],
  dns: ["allocate"],
  dhcp: ["allocate"],
  // Ganeti resolves the instance's name when it adds it: the DNS record comes first.
  adopt: ["dns", "customize"],
  firewall: ["allocate"],
  // The guest asks for its address at boot and must be reachable on its SSH port once up.
  start: ["adopt", "dhcp", "firewall"],
  balloon: ["start"],
  identity: ["start"],
  // nginx resolves the upstream (the VM's name) when it checks and loads the site.
  proxy: ["dns"],
  // The VM is ready only once every other step is done.
  record: ["balloon", "identity", "proxy"],
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
