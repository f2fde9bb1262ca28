// `gnt-node volumes`: every LV of every node with the instance Ganeti's config says owns it, in
// one cluster-wide query (lib/cmdlib/node.py LUNodeQueryvols of Ganeti 3.0.2). No field of
// `gnt-instance list` gives an instance's LV names, so this is the LV ↔ instance map.
import { LIST_SEPARATOR } from "./ganeti-parse.js";
import { unexpectedOutput } from "./parse-error.js";

/** Fields of `gnt-node volumes -o`, in the order parseVolumes expects them. */
export const VOLUME_FIELDS = ["node", "vg", "name", "instance"] as const;

export interface GanetiVolume {
  node: string;
  vg: string;
  name: string;
  /** The instance whose disk (or DRBD metadata) it is; null when none ("-"). */
  instance: string | null;
}

export function volumesArgv(): string[] {
  return [
    "gnt-node",
    "volumes",
    "--no-headers",
    `--separator=${LIST_SEPARATOR}`,
    "-o",
    VOLUME_FIELDS.join(","),
  ];
}

/** Parses `gnt-node volumes --no-headers --separator=| -o node,vg,name,instance`. */
export function parseVolumes(stdout: string): GanetiVolume[] {
  const out: GanetiVolume[] = [];
  const seen = new Set<string>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const f = line.split(LIST_SEPARATOR);
    if (f.length !== VOLUME_FIELDS.length || f.slice(0, 3).some((v) => v === "")) {
      throw unexpectedOutput("gnt-node volumes", "expected node|vg|name|instance", line);
    }
    const [node, vg, name, instance] = f as [string, string, string, string];
    // An LV on several PVs is listed once per PV: the same LV, one entry.
    const key = `${node}|${vg}/${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ node, vg, name, instance: instance === "-" ? null : instance });
  }
  return out;
}
