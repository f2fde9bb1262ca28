// farmctl doctor's checks, wired from farmd.toml like farmd's own adapters (this is wiring, as farmd
// is): it runs in farmctl, so it answers when farmd is down, and it changes nothing (a dry-run host).
import { report, fail, ok, warn, type DoctorCheck, type DoctorReport } from "../api/doctor.js";
import { asFarmError, FarmError } from "../api/errors.js";
import type { VmEntry } from "../host/confedit/entry.js";
import { checkHostTemplates } from "../ops/clone/host-templates.js";
import type { TemplatePort } from "../ops/ports.js";
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
  for (const tool of TOOLS)
    checks.push(await guard(`tool ${tool.name}`, () => checkTool(runner, tool, o.path)));
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
    dns: await guard("path [dns] zone_file", () =>
      checkZonePath(runner, config.dns.zone, config.dns.zone_file),
    ),
    dhcp: await guard("path [dhcp] config", () =>
      checkDhcpdPath(config.dhcp.config, runningDhcpd()),
    ),
    firewall: [
      await guard("path [firewall] rules", () =>
        checkShorewallPath("rules", config.firewall.rules),
      ),
      await guard("path [firewall] params", () =>
        checkShorewallPath("params", config.firewall.params),
      ),
    ],
    proxy: await guard("path [proxy] sites", () =>
      checkNginxPaths(runner, config.proxy.sites_available, config.proxy.sites_enabled),
    ),
  };
  checks.push(paths.dns, paths.dhcp, ...paths.firewall, paths.proxy);
  checks.push(...(await checkTemplates(config, runner, paths)));
  checks.push(await guard("ganeti node", () => checkGanetiNode(runner, config.ganeti.node)));
  checks.push(await guard("lvm vg", () => checkVg(new Lvm(runner), config.lvm.vg)));
  checks.push(await guard("ganeti monitor_dir", () => checkMonitorDir(config.ganeti.monitor_dir)));
  checks.push(
    await guard("farmd socket", () => {
      const gid = config.socket_group ? groupId(config.socket_group) : undefined;
      return checkSocket(config.socket, config.socket_group, gid);
    }),
  );
  checks.push(
    await guard("copy throttle", () =>
      checkThrottle((o.mechanism ?? (() => chooseMechanism()))(), parseRate(config.copy.bwlimit)),
    ),
  );
  return report(checks);
}

/** A check that throws (a checker not installed, a file not readable) is that check's fail. */
async function guard(
  id: string,
  check: () => DoctorCheck | Promise<DoctorCheck>,
): Promise<DoctorCheck> {
  try {
    return await check();
  } catch (err) {
    const e = asFarmError(err);
    return fail(id, e.message, e.hint ?? "see farmctl(1), doctor");
  }
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
  const { entry, given } = withSampleVars(host.templates, sampleEntry(config));
  const withVars = given.length
    ? ` (with ${given.map((v) => `vars.${v}`).join(", ")} = "doctor")`
    : "";
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
        ok(
          id,
          `renders for the sample VM ${entry.fqdn}${withVars} and passes the service's checker`,
        ),
      );
    } catch (err) {
      const e = asFarmError(err);
      const template = TEMPLATES[key].split(", ")[0];
      const refused = e.code === "validation_failed" && e.hint ? `: ${e.hint}` : "";
      // A value doctor made up for a farm variable may be what the checker refuses: a warning.
      checks.push(
        (given.length ? warn : fail)(
          id,
          `for the sample VM ${entry.fqdn}${withVars}: ${e.message}${refused}`,
          refused || !e.hint
            ? `fix the template: ${config.templates_dir}/${template} (an override) or the built-in one`
            : e.hint,
        ),
      );
    }
  }
  return checks;
}

/**
 * The variables the templates use (a farm's or a clone's --var): each given "doctor", so a
 * template that needs one is still rendered and checked rather than failed for lack of it.
 */
function withSampleVars(
  templates: TemplatePort,
  entry: VmEntry,
): { entry: VmEntry; given: string[] } {
  const vars: Record<string, string> = {};
  for (let tries = 0; tries < 32; tries++) {
    try {
      checkHostTemplates(templates, { ...entry, vars });
      break;
    } catch (err) {
      const variable = err instanceof FarmError ? err.details?.variable : undefined;
      if (typeof variable !== "string") break;
      vars[variable] = "doctor";
    }
  }
  return { entry: { ...entry, vars }, given: Object.keys(vars) };
}

/** A VM no host has: the subnet's last address, a MAC in QEMU's range, a web name. */
function sampleEntry(config: Config): VmEntry {
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
