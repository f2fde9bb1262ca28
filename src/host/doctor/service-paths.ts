// Are the paths farmd.toml names the ones the services load? Each reads what the service itself
// reads (named-checkconf -p, dhcpd's command line, shorewall.conf's CONFIG_PATH, nginx -T).
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import { fail, ok, type DoctorCheck } from "../../api/doctor.js";
import type { Runner } from "../runner.js";
import { firstLine } from "./tools.js";

/** The zones of `named-checkconf -p` (bind's whole config, normalized): zone name → file. */
export function namedZoneFiles(printed: string): Map<string, string> {
  const directory = /^\s*directory\s+"([^"]+)";/m.exec(printed)?.[1] ?? "/";
  const zones = new Map<string, string>();
  const zone = /^\s*zone\s+"([^"]+)"(?:\s+\w+)?\s*\{([\s\S]*?)^\s*\};/gm;
  for (const m of printed.matchAll(zone)) {
    const file = /^\s*file\s+"([^"]+)";/m.exec(m[2]!)?.[1];
    if (file) zones.set(m[1]!.replace(/\.$/, ""), isAbsolute(file) ? file : join(directory, file));
  }
  return zones;
}

export async function checkZonePath(
  runner: Runner,
  zone: string,
  zoneFile: string,
): Promise<DoctorCheck> {
  const id = "path [dns] zone_file";
  if (!existsSync(zoneFile))
    return fail(
      id,
      `${zoneFile} does not exist`,
      `set [dns] zone_file in farmd.toml to the file named loads for zone '${zone}'` +
        (await namedHint(runner, zone)),
    );
  const r = await runner.run(["named-checkconf", "-p"], { readOnly: true, allowFailure: true });
  if (r.exitCode !== 0)
    return fail(
      id,
      `named-checkconf -p refused named.conf: ${firstLine(r.stdout + r.stderr)}`,
      "fix /etc/bind/named.conf (named-checkconf names the line)",
    );
  const loaded = namedZoneFiles(r.stdout).get(zone);
  if (!loaded)
    return fail(
      id,
      `named.conf has no zone '${zone}'`,
      `set [dns] zone to the zone of the VM records, or add zone "${zone}" to named.conf`,
    );
  if (loaded !== zoneFile)
    return fail(
      id,
      `named loads zone '${zone}' from ${loaded}, not ${zoneFile}`,
      `set [dns] zone_file = "${loaded}" in farmd.toml`,
    );
  return ok(id, `${zoneFile} (named's zone '${zone}')`);
}

async function namedHint(runner: Runner, zone: string): Promise<string> {
  const r = await runner.run(["named-checkconf", "-p"], { readOnly: true, allowFailure: true });
  const loaded = r.exitCode === 0 ? namedZoneFiles(r.stdout).get(zone) : undefined;
  return loaded ? ` (named.conf says ${loaded})` : "";
}

/** dhcpd's config: its -cf, else the file it reads by default. */
export function dhcpdConfigOf(argv: readonly string[], fallback = DHCPD_DEFAULT): string {
  const i = argv.indexOf("-cf");
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
}

export const DHCPD_DEFAULT = "/etc/dhcp/dhcpd.conf";

/** The command lines of the running dhcpd processes in this network namespace (where it serves). */
export function runningDhcpd(proc = "/proc"): string[][] {
  const own = netns(join(proc, "self"));
  const found: string[][] = [];
  for (const pid of readdirSync(proc).filter((d) => /^\d+$/.test(d))) {
    try {
      const argv = readFileSync(join(proc, pid, "cmdline"), "utf8")
        .split("\0")
        .filter(Boolean);
      if (argv[0] && basename(argv[0]) === "dhcpd" && netns(join(proc, pid)) === own)
        found.push(argv);
    } catch {
      // it ended, or is not ours to read
    }
  }
  return found;
}

function netns(dir: string): string | null {
  try {
    return readlinkSync(join(dir, "ns", "net"));
  } catch {
    return null;
  }
}

export function checkDhcpdPath(config: string, running: string[][]): DoctorCheck {
  const id = "path [dhcp] config";
  if (!existsSync(config))
    return fail(
      id,
      `${config} does not exist`,
      `set [dhcp] config in farmd.toml to the file dhcpd reads (${running[0] ? dhcpdConfigOf(running[0]) : DHCPD_DEFAULT})`,
    );
  if (running.length === 0)
    return config === DHCPD_DEFAULT
      ? ok(id, `${config} (dhcpd's default; dhcpd is not running to confirm)`)
      : fail(
          id,
          `dhcpd is not running, and ${config} is not its default ${DHCPD_DEFAULT}`,
          "start isc-dhcp-server, then run farmctl doctor again",
        );
  const loaded = dhcpdConfigOf(running[0]!);
  if (loaded !== config)
    return fail(
      id,
      `dhcpd runs with ${loaded}, not ${config}`,
      `set [dhcp] config = "${loaded}" in farmd.toml`,
    );
  return ok(id, `${config} (running dhcpd's -cf)`);
}

/** shorewall.conf's CONFIG_PATH, expanded: the directories shorewall looks in, in order. */
export function shorewallConfigPath(conf: string): string[] {
  const raw = /^\s*CONFIG_PATH=["']?([^"'\n]*)["']?\s*$/m.exec(conf)?.[1] ?? "${CONFDIR}/shorewall";
  return raw
    .replaceAll("${CONFDIR}", "/etc")
    .replaceAll("${SHAREDIR}", "/usr/share")
    .split(":")
    .filter(Boolean);
}

export const SHOREWALL_CONF = "/etc/shorewall/shorewall.conf";

export function checkShorewallPath(
  key: "rules" | "params",
  path: string,
  shorewallConf = SHOREWALL_CONF,
): DoctorCheck {
  const id = `path [firewall] ${key}`;
  if (!existsSync(path))
    return fail(id, `${path} does not exist`, `set [firewall] ${key} in farmd.toml`);
  let conf: string;
  try {
    conf = readFileSync(shorewallConf, "utf8");
  } catch (err) {
    return fail(id, `cannot read ${shorewallConf}: ${(err as Error).message}`, "install shorewall");
  }
  const dirs = shorewallConfigPath(conf);
  const loaded = dirs.map((d) => join(d, basename(path))).find((p) => existsSync(p));
  if (loaded !== path)
    return fail(
      id,
      `shorewall reads ${loaded ?? `no ${basename(path)}`} (CONFIG_PATH ${dirs.join(":")}), not ${path}`,
      loaded ? `set [firewall] ${key} = "${loaded}" in farmd.toml` : `create ${path}`,
    );
  return ok(id, `${path} (first on shorewall's CONFIG_PATH)`);
}

/** The include patterns of `nginx -T`, the configuration nginx loads. */
export function nginxIncludes(dump: string): string[] {
  return [...dump.matchAll(/^\s*include\s+([^;\s]+)\s*;/gm)].map((m) => m[1]!);
}

export async function checkNginxPaths(
  runner: Runner,
  sitesAvailable: string,
  sitesEnabled: string,
): Promise<DoctorCheck> {
  const id = "path [proxy] sites";
  for (const [key, dir] of [
    ["sites_available", sitesAvailable],
    ["sites_enabled", sitesEnabled],
  ] as const)
    if (!existsSync(dir))
      return fail(id, `${dir} does not exist`, `set [proxy] ${key} in farmd.toml`);
  const r = await runner.run(["nginx", "-T"], { readOnly: true, allowFailure: true });
  if (r.exitCode !== 0)
    return fail(
      id,
      `nginx -T refused its configuration: ${firstLine(r.stderr)}`,
      "fix nginx's configuration (`nginx -t` names the line)",
    );
  const include = nginxIncludes(r.stdout).find(
    (p) => dirname(p) === sitesEnabled.replace(/\/$/, ""),
  );
  if (!include)
    return fail(
      id,
      `nginx does not include ${sitesEnabled} (its includes: ${nginxIncludes(r.stdout).join(", ")})`,
      `add \`include ${sitesEnabled}/*;\` to nginx's http block, or set [proxy] sites_enabled`,
    );
  if (basename(include) !== "*")
    return fail(
      id,
      `nginx includes only ${include}, but farmctl names its links after the site`,
      `include ${sitesEnabled}/* in nginx's http block`,
    );
  return ok(id, `${sitesAvailable}, ${sitesEnabled} (nginx includes ${include})`);
}
