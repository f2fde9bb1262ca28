// What holds each name a farm uses, as the planner needs it: the inventory's record and the Ganeti
// instance's farm tags, read once (one `gnt-instance list` of the tags) for all the names.
import { parseFarmTags } from "../../host/ganeti-tags.js";
import type { Config } from "../../config/schema.js";
import type { Inventory } from "../../state/inventory.js";
import { parseInstanceName } from "../names.js";
import type { GanetiPort } from "../ports.js";
import type { NameHolder } from "./plan.js";

export interface HolderDeps {
  config: Config;
  inventory: Inventory;
  ganeti: GanetiPort;
}

/** The holder of each of `names` that something holds; a name left out is free. */
export async function nameHolders(
  deps: HolderDeps,
  names: Iterable<string>,
): Promise<Map<string, NameHolder>> {
  const tagsByFqdn = await deps.ganeti.instanceTags();
  const instances = new Map<string, string[]>();
  for (const [fqdn, tags] of tagsByFqdn) {
    const short = parseInstanceName(fqdn, deps.config.names.domain)?.name;
    // Two groups with the same short name: the one that names a farm is the one to refuse over.
    if (short && (!instances.has(short) || parseFarmTags(tags).farm !== null))
      instances.set(short, tags);
  }
  const out = new Map<string, NameHolder>();
  for (const name of new Set(names)) {
    const inventory = deps.inventory.farmOf(name);
    const tags = instances.get(name);
    if (inventory || tags)
      out.set(name, { name, inventory, tags: tags ? parseFarmTags(tags) : null });
  }
  return out;
}
