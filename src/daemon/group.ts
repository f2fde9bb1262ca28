// Group name → gid from /etc/group (node has no getgrnam).
import { readFileSync } from "node:fs";

export function groupId(name: string, groupFile = "/etc/group"): number | undefined {
  for (const line of readFileSync(groupFile, "utf8").split("\n")) {
    const [group, , gid] = line.split(":");
    if (group === name && gid && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
