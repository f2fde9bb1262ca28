// Each tool farmctl drives: on PATH, and the version it reports (read-only queries through the Runner).
import { fail, ok, type DoctorCheck } from "../../api/doctor.js";
import type { Runner } from "../runner.js";
import { findExecutable } from "../which.js";

export interface Tool {
  name: string;
  argv: string[];
  /** The version in its output (stdout and stderr together: nginx -v writes to stderr). */
  version: RegExp;
  /** The Debian package that provides it. */
  pkg: string;
  /** What farmctl needs it for, for the fix. */
  use: string;
}

export const TOOLS: Tool[] = [
  {
    name: "gnt-cluster",
    argv: ["gnt-cluster", "--version"],
    version: /\(ganeti ([^)]+)\)/,
    pkg: "ganeti",
    use: "every clone adopts its disk in Ganeti",
  },
  {
    name: "lvm",
    argv: ["lvm", "version"],
    version: /LVM version:\s+(\S+)/,
    pkg: "lvm2",
    use: "the snapshot and the new disk are LVs",
  },
  {
    name: "dd",
    argv: ["dd", "--version"],
    version: /^dd \([^)]*\) (\S+)/m,
    pkg: "coreutils",
    use: "the copy",
  },
  {
    name: "ionice",
    argv: ["ionice", "--version"],
    version: /util-linux (\S+)/,
    pkg: "util-linux",
    use: "the copy runs at idle I/O priority",
  },
  {
    name: "named-checkzone",
    argv: ["named-checkzone", "-v"],
    version: /^(\d+\.\d+\.\d+\S*)/m,
    pkg: "bind9-utils",
    use: "every zone edit is checked before it is put in place",
  },
  {
    name: "dhcpd",
    argv: ["dhcpd", "--version"],
    version: /isc-dhcpd-(\S+)/,
    pkg: "isc-dhcp-server",
    use: "every dhcpd.conf edit is checked with dhcpd -t",
  },
  {
    name: "nginx",
    argv: ["nginx", "-v"],
    version: /nginx\/(\S+)/,
    pkg: "nginx",
    use: "every site is checked with nginx -t",
  },
  {
    name: "shorewall",
    argv: ["shorewall", "version"],
    version: /^(\d+\.\d+\S*)/m,
    pkg: "shorewall",
    use: "every rule is checked with shorewall check",
  },
];

export async function checkTool(
  runner: Runner,
  tool: Tool,
  path = process.env.PATH ?? "",
): Promise<DoctorCheck> {
  const id = `tool ${tool.name}`;
  const install = `apt install ${tool.pkg} (${tool.use})`;
  const where = findExecutable(tool.name, path);
  if (!where) return fail(id, `${tool.name} is not on PATH (${path})`, install);
  const r = await runner.run(tool.argv, { readOnly: true, allowFailure: true, timeoutMs: 30_000 });
  const out = `${r.stdout}\n${r.stderr}`;
  const version = tool.version.exec(out)?.[1];
  if (r.exitCode !== 0 || !version)
    return fail(
      id,
      `${where}: \`${tool.argv.join(" ")}\` exited ${r.exitCode}: ${firstLine(out)}`,
      `reinstall ${tool.pkg}: ${install}`,
    );
  return ok(id, `${version} (${where})`);
}

export const firstLine = (text: string): string =>
  text
    .split("\n")
    .map((l) => l.trim())
    .find((l) => l) ?? "(no output)";
