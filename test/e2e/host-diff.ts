// What differs between two host states, one short line each: a benchmark's failure message must
// name the leftover even when CI shows only the end of a long log.
import type { HostState } from "./helpers.js";

function listDiff(what: string, before: string[], after: string[]): string[] {
  const [b, a] = [new Set(before), new Set(after)];
  return [
    ...before.filter((x) => !a.has(x)).map((x) => `${what} gone: ${x}`),
    ...after.filter((x) => !b.has(x)).map((x) => `${what} new: ${x}`),
  ];
}

export function hostStateChanges(before: HostState, after: HostState): string[] {
  const paths = [...new Set([...before.files.keys(), ...after.files.keys()])].sort();
  const files = paths
    .filter((p) => before.files.get(p) !== after.files.get(p))
    .map((p) =>
      !before.files.has(p)
        ? `file new: ${p}`
        : !after.files.has(p)
          ? `file gone: ${p}`
          : `file changed: ${p}`,
    );
  const row = (o: object) => Object.values(o).join("|");
  return [
    ...files,
    ...listDiff("lv", before.lvs.map(row), after.lvs.map(row)),
    ...listDiff("instance", before.instances.map(row), after.instances.map(row)),
    ...listDiff("loop", before.loops, after.loops),
    ...(before.soa === after.soa ? [] : [`soa: '${before.soa}' -> '${after.soa}'`]),
  ];
}
