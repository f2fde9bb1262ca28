// Makes a service pick up edited config: an admin's `reload = [argv]`, else systemd over D-Bus.
import { CommandFailed, ConfigError, lastLines } from "../api/errors.js";
import type { Runner } from "./runner.js";
import {
  ReloadFailed,
  controlUnit,
  managerMethod,
  type SystemdOptions,
  type UnitAction,
} from "./systemd.js";

export interface ServiceControl {
  /** Applies the service's new config; throws a FarmError ('reload_failed', 'unavailable'). */
  reload(): Promise<void>;
  /** What reload() would do, for dry-run plans. */
  describe(): string[];
}

/** The keys of a farmd.toml service section ([dns], [dhcp], [firewall], [proxy]) used here. */
export interface ServiceSection {
  unit?: string;
  reload?: string[];
}

/** dhcpd has no reload: its section is driven with "restart". */
export type ControlMode = UnitAction;

export interface ServiceControlDeps {
  runner: Runner;
  systemd?: SystemdOptions;
  /** Bound on an argv reload, in ms. */
  timeoutMs?: number;
}

export function serviceControl(
  section: ServiceSection,
  mode: ControlMode,
  deps: ServiceControlDeps,
): ServiceControl {
  // Defaults fill `unit` in every section, so an explicit `reload` must win over it.
  if (section.reload !== undefined) {
    if (section.reload.length === 0 || !section.reload[0]) {
      throw new ConfigError(
        "`reload` is an empty command",
        'give the command as an argv array, e.g. reload = ["rndc", "reload"], or remove it',
      );
    }
    return argvControl(section.reload, deps);
  }
  if (section.unit) return unitControl(section.unit, mode, deps.systemd ?? {});
  throw new ConfigError(
    "service section has neither `unit` nor `reload`",
    'set unit = "<name>.service", or reload = ["argv", ...] on hosts without systemd',
  );
}

function argvControl(argv: readonly string[], deps: ServiceControlDeps): ServiceControl {
  const command = [...argv];
  return {
    describe: () => [...command],
    async reload() {
      try {
        await deps.runner.run(command, { timeoutMs: deps.timeoutMs });
      } catch (err) {
        if (!(err instanceof CommandFailed)) throw err;
        // One code for "the service refused its new config", whichever way it was reloaded.
        throw new ReloadFailed(
          `reload command failed (exit ${err.commandExitCode ?? "signal"}): ${command.join(" ")}`,
          err.stderr.trim() ? lastLines(err.stderr, 8) : "check the service's log",
          { argv: command, exitCode: err.commandExitCode, stderr: err.stderr },
        );
      }
    },
  };
}

function unitControl(unit: string, mode: ControlMode, opts: SystemdOptions): ServiceControl {
  return {
    describe: () => ["systemctl-dbus", managerMethod(mode), unit],
    reload: () => controlUnit(unit, mode, opts),
  };
}
