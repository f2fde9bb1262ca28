// farmctl doctor's checks, wired from farmd.toml like farmd's own adapters (this is wiring, as farmd
// is): it runs in farmctl, so it answers when farmd is down, and it changes nothing (a dry-run host).
import { report, fail, ok, warn, type DoctorCheck, type DoctorReport } from "../api/doctor.js";
import { asFarmError } from "../api/errors.js";
import { loadConfig } from "../config/load.js";
import { stateDir } from "../config/paths.js";
import type { Config } from "../config/schema.js";
import { parseRate } from "../config/size.js";
import {
  checkGanetiNode,
  checkMonitorDir,
  checkSocket,
  checkThrottle,
  checkVg,
} from "../host/doctor/host-checks.js";
import {
  checkDhcpdPath,
  checkNginxPaths,
  checkShorewallPath,
  checkZonePath,
  runningDhcpd,
} from "../host/doctor/service-paths.js";
import { checkTool, TOOLS } from "../host/doctor/tools.js";
import { Lvm } from "../host/lvm.js";
import { ExecaRunner, type Runner } from "../host/runner.js";
import { chooseMechanism } from "../host/throttle/choose.js";
import type { ThrottleMechanism } from "../host/throttle/types.js";
import { parseSubnet, sshPortFor } from "../ops/allocate.js";
import { vmEntry } from "../ops/entry.js";
import { vmNames } from "../ops/names.js";
import { Address4 } from "ip-address";
import { groupId } from "./group.js";
import { buildHost } from "./host.js";

export interface DoctorOptions {
  configPath?: string;
  runner?: Runner;
  /** Where the tools are looked for (default: PATH). */
  path?: string;
  /** The throttle this host would use (tests give one). */
  mechanism?: () => ThrottleMechanism;
}

export async function runDoctor(o: DoctorOptions = {}): Promise<DoctorReport> {
  const runner = o.runner ?? new ExecaRunner();
  const checks: DoctorCheck[] = [];
  for (const tool of TOOLS) checks.push(await checkTool(runner, tool, o.path));
  let config: Config;
  try {
    const loaded = loadConfig(o.configPath);
    config = loaded.config;
    checks.push(ok("farmd.toml", loaded.path ?? "none: every key at its default"));
  } catch (err) {
    const e = asFarmError(err);
    checks.push(fail("farmd.toml", e.message, e.hint ?? "see farmd.toml(5)"));
    checks.push(
      warn(
        "host",
        "not checked: farmd.toml must load first",
        "fix farmd.toml, then run farmctl doctor again",
      ),
    );
    return report(checks);
  }
  const paths = {
    dns: await checkZonePath(runner, config.dns.zone, config.dns.zone_file),
    dhcp: checkDhcpdPath(config.dhcp.config, runningDhcpd()),
    firewall: [
      checkShorewallPath("rules", config.firewall.rules),
      checkShorewallPath("params", config.firewall.params),
    ],
    proxy: await checkNginxPaths(runner, config.proxy.sites_available, config.proxy.sites_enabled),
  };
  checks.push(paths.dns, paths.dhcp, ...paths.firewall, paths.proxy);
  checks.push(...(await checkTemplates(config, runner, paths)));
  checks.push(await checkGanetiNode(runner, config.ganeti.node));
  checks.push(await checkVg(new Lvm(runner), config.lvm.vg));
  checks.push(checkMonitorDir(config.ganeti.monitor_dir));
  const gid = config.socket_group ? groupId(config.socket_group) : undefined;
  checks.push(checkSocket(config.socket, config.socket_group, gid));
  checks.push(
    checkThrottle((o.mechanism ?? (() => chooseMechanism()))(), parseRate(config.copy.bwlimit)),
  );
  return report(checks);
}

const TEMPLATES = {
  dns: "zone-record.njk",
  dhcp: "dhcpd-host.njk",
  firewall: "shorewall-rule.njk, shorewall-param.njk",
  proxy: "nginx-site.njk",
} as const;

type FamilyPaths = Record<keyof typeof TEMPLATES, DoctorCheck | DoctorCheck[]>;

/** Each family adds a sample VM on a dry-run host: its templates render, its checker runs on temp copies. */
async function checkTemplates(
  config: Config,
  runner: Runner,
  paths: FamilyPaths,
): Promise<DoctorCheck[]> {
  const host = buildHost(config, {
    dryRun: true,
    events: () => {},
    stateDir: stateDir(config),
    runner,
  });
  const entry = sampleEntry(config);
  const checks: DoctorCheck[] = [];
  for (const key of Object.keys(TEMPLATES) as (keyof typeof TEMPLATES)[]) {
    const id = `template ${key} (${TEMPLATES[key]})`;
    const failed = [paths[key]].flat().find((c) => c.status === "fail");
    if (failed) {
      checks.push(warn(id, `not checked: ${failed.id} fails`, `fix ${failed.id} first`));
      continue;
    }
    try {
      await host.families[key].add(entry, () => {});
      checks.push(
        ok(id, `renders for the sample VM ${entry.fqdn} and passes the service's checker`),
      );
    } catch (err) {
      const e = asFarmError(err);
      const template = TEMPLATES[key].split(", ")[0];
      const refused = e.code === "validation_failed" && e.hint ? `: ${e.hint}` : "";
      checks.push(
        fail(
          id,
          `for the sample VM ${entry.fqdn}: ${e.message}${refused}`,
          refused || !e.hint
            ? `fix the template: ${config.templates_dir}/${template} (an override) or the built-in one`
            : e.hint,
        ),
      );
    }
  }
  return checks;
}

/** A VM no host has: the subnet's last address, a MAC in QEMU's range, a web name. */
function sampleEntry(config: Config) {
  const cfg = {
    domain: config.names.domain,
    publicDomain: config.names.public_domain,
    zone: config.dns.zone,
  };
  const names = vmNames("farmctl-doctor", "doctor", cfg);
  const subnet = parseSubnet(config.network.subnet, config.network.gateway);
  const ip = Address4.fromBigInt(subnet.last).correctForm();
  const alloc = {
    ip,
    mac: "52:54:00:00:00:01",
    sshPort: sshPortFor(ip, config.firewall.ssh_port_base),
  };
  return vmEntry(names, alloc, `farmctl-doctor.${config.names.public_domain}`, config, {
    vars: {},
    farm: null,
    member: null,
  });
}
