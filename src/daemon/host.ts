// Builds the host adapters from farmd.toml: real ones, or dry-run ones that read the host for real
// and report every change (command or file diff) instead of making it.
import { join } from "node:path";
import type { EventSink } from "../api/events.js";
import type { Config } from "../config/schema.js";
import { parseRate } from "../config/size.js";
import { Copier } from "../host/copy.js";
import { Throttler } from "../host/throttle/choose.js";
import { DhcpFamily } from "../host/families/dhcp.js";
import { DnsFamily } from "../host/families/dns.js";
import { FirewallFamily } from "../host/families/firewall.js";
import { ProxyFamily } from "../host/families/proxy.js";
import { DryRunFiles, RealFiles, type HostFiles } from "../host/files.js";
import { Ganeti } from "../host/ganeti.js";
import { Lvm } from "../host/lvm.js";
import { DryRunLvm } from "../host/lvm-dry-run.js";
import { Monitor } from "../host/monitor.js";
import { SerialConsole } from "../host/console.js";
import { Guestfs } from "../host/guestfs.js";
import { guestfsCacheDir } from "../config/paths.js";
import { serviceControl, type ServiceControl, type ServiceSection } from "../host/reload.js";
import { systemResolver, type Resolver } from "../host/resolve.js";
import { DryRunRunner, ExecaRunner, type Runner } from "../host/runner.js";
import { Templates } from "../host/templates.js";
import type { ControlMode } from "../host/reload.js";
import type {
  Families,
  GanetiPort,
  LvmPort,
  MonitorPort,
  CopyPort,
  GuestPort,
  ConsolePort,
  ProcessPort,
  TemplatePort,
} from "../ops/ports.js";
import { killLeftover } from "../host/process.js";
import { listeningPorts, type ProcReader } from "../host/sockets.js";
import { tolerantUndos, UndoTolerantService } from "../host/families/undo-reload.js";

export interface Host {
  runner: Runner;
  files: HostFiles;
  lvm: LvmPort;
  ganeti: GanetiPort;
  monitor: MonitorPort;
  /** The guests' serial consoles (read only: a dry run reads them too). */
  console: ConsolePort;
  copier: CopyPort;
  families: Families;
  processes: ProcessPort;
  /** The override dir's templates, then the built-in ones (guest files render with them). */
  templates: TemplatePort;
  /** libguestfs for the customize step; without it that step is skipped with a warning. */
  guest?: GuestPort;
  /** TCP ports something on the host listens on. */
  listening: () => Promise<number[]>;
}

export interface HostOptions {
  dryRun: boolean;
  events: EventSink;
  stateDir: string;
  runner?: Runner;
  resolve?: Resolver;
  /** Reads /proc/net/tcp{,6}; tests give captured tables. */
  procNet?: ProcReader;
}

export function buildHost(config: Config, o: HostOptions): Host {
  const real = o.runner ?? new ExecaRunner();
  const runner = o.dryRun
    ? new DryRunRunner(real, (argv) => o.events({ type: "command", argv: [...argv] }))
    : real;
  const realFiles = new RealFiles(join(o.stateDir, "backups"));
  const files = o.dryRun
    ? new DryRunFiles(realFiles, (path, diff) => o.events({ type: "file-diff", path, diff }))
    : realFiles;
  const templates = new Templates(config.templates_dir);
  const services = new Map<string, UndoTolerantService>();
  const service = (key: keyof Families, mode: ControlMode): ServiceControl => {
    const control = serviceControl(config[key] as ServiceSection, mode, { runner });
    // systemd is reached over D-Bus, not the Runner: in a dry run, report instead of calling.
    const tolerant = new UndoTolerantService(
      o.dryRun
        ? {
            describe: control.describe,
            reload: async () => o.events({ type: "command", argv: control.describe() }),
          }
        : control,
    );
    services.set(key, tolerant);
    return tolerant;
  };
  const wrap = (w: string[]) => ({ wrap: w });
  const dns = new DnsFamily({
    files,
    runner,
    templates,
    service: service("dns", "reload"),
    zone: config.dns.zone,
    zoneFile: config.dns.zone_file,
    check: wrap(config.dns.check_wrap),
    resolve: o.resolve ?? systemResolver,
    resolveTimeoutMs: config.dns.resolve_timeout_ms,
  });
  const families: Families = {
    dns,
    dhcp: new DhcpFamily({
      files,
      runner,
      templates,
      service: service("dhcp", "restart"),
      config: config.dhcp.config,
      check: wrap(config.dhcp.check_wrap),
      zoneAddresses: () => dns.addresses(),
    }),
    firewall: new FirewallFamily({
      files,
      runner,
      templates,
      service: service("firewall", "reload"),
      rules: config.firewall.rules,
      params: config.firewall.params,
      check: wrap(config.firewall.check_wrap),
    }),
    proxy: new ProxyFamily({
      files,
      runner,
      templates,
      service: service("proxy", "reload"),
      sitesAvailable: config.proxy.sites_available,
      sitesEnabled: config.proxy.sites_enabled,
      check: wrap(config.proxy.check_wrap),
      dryRun: o.dryRun,
    }),
  };
  for (const key of ["dns", "dhcp", "firewall", "proxy"] as const)
    families[key] = tolerantUndos(families[key], services.get(key)!) as never;
  const lvm = new Lvm(runner);
  return {
    runner,
    files,
    lvm: o.dryRun ? new DryRunLvm(lvm, runner) : lvm,
    ganeti: new Ganeti(runner, { dryRun: o.dryRun }),
    monitor: new Monitor({
      monitorDir: config.ganeti.monitor_dir,
      protocol: config.ganeti.monitor,
    }),
    console: new SerialConsole({ monitorDir: config.ganeti.monitor_dir }),
    copier: new Copier(runner, {
      blockSize: config.copy.block_size,
      ioniceClass: config.copy.ionice_class,
      bwlimit: parseRate(config.copy.bwlimit, "[copy] bwlimit"),
      // probed at the first limited copy: systemd, cgroup v2 io, cgroup v1 blkio, else pacing
      throttler: new Throttler(),
      dryRun: o.dryRun,
    }),
    families,
    processes: { killLeftover },
    templates,
    guest: new Guestfs({
      runner,
      backend: config.guest.backend,
      backendSettings: config.guest.backend_settings,
      cacheDir: guestfsCacheDir(config, o.stateDir),
      timeoutMs: config.guest.timeout_ms,
    }),
    listening: () => listeningPorts(o.procNet),
  };
}
