// Every name derived from a VM's short name and group, and the validation that keeps them all valid.
import { BadInput } from "../api/errors.js";

export interface NameConfig {
  domain: string; // "vm.farm": instance = <name>.<group>.<domain>
  publicDomain: string; // "dachary.org": nginx server_name = <name>.<publicDomain>
  zone: string; // "farm": the bind zone the record goes in
}

export interface VmNames {
  name: string;
  group: string;
  /** Ganeti instance name, "gallifrey-dev.xivo.vm.farm". */
  fqdn: string;
  /** Owner name relative to the zone, "gallifrey-dev.xivo.vm". */
  zoneName: string;
  /** Shorewall param, "VM_GALLIFREY_DEV_XIVO". */
  shorewallParam: string;
  /** The LV farmctl creates; Ganeti renames it to <uuid>.disk0 on adoption. */
  lvName: string;
}

const LABEL = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const MAX_FQDN = 253;
const MAX_LABEL = 63;

/** The longest short name whose every derived name stays valid. */
export function maxNameLength(group: string, cfg: NameConfig): number {
  const longestSuffix = Math.max(`.${group}.${cfg.domain}`.length, `.${cfg.publicDomain}`.length);
  return Math.min(MAX_LABEL, MAX_FQDN - longestSuffix);
}

export function checkLabel(value: string, what: string, maxLength = MAX_LABEL): string {
  const fix = `use lowercase letters, digits and '-', starting with a letter, at most ${maxLength} characters (like 'gallifrey-dev')`;
  if (!value) throw new BadInput(`${what} is empty`, fix);
  if (value.length > maxLength)
    throw new BadInput(
      `${what} '${value}' is ${value.length} characters long, more than ${maxLength}`,
      fix,
    );
  if (!LABEL.test(value)) {
    const why = /\./.test(value)
      ? "contains a dot (give the short name, not the instance name)"
      : /^[0-9-]/.test(value)
        ? "starts with a digit or '-'"
        : /[A-Z]/.test(value)
          ? "has uppercase letters"
          : "has characters other than a-z, 0-9 and '-', or ends with '-'";
    throw new BadInput(`${what} '${value}' is not a valid name: it ${why}`, fix);
  }
  return value;
}

export function vmNames(name: string, group: string, cfg: NameConfig): VmNames {
  checkLabel(group, "group");
  checkLabel(name, "VM name", maxNameLength(group, cfg));
  const fqdn = `${name}.${group}.${cfg.domain}`;
  if (!fqdn.endsWith(`.${cfg.zone}`)) {
    throw new BadInput(
      `instance name ${fqdn} is not inside the DNS zone '${cfg.zone}'`,
      "set [names] domain to a name under [dns] zone in farmd.toml",
    );
  }
  return {
    name,
    group,
    fqdn,
    zoneName: fqdn.slice(0, -(cfg.zone.length + 1)),
    shorewallParam: `VM_${name}_${group}`.toUpperCase().replace(/-/g, "_"),
    lvName: name,
  };
}

export function webName(name: string, cfg: NameConfig, explicit?: string): string {
  return checkWebName(explicit ?? `${name}.${cfg.publicDomain}`);
}

/** An nginx server_name: a fully qualified host name of valid labels. */
export function checkWebName(
  web: string,
  fix = "give --web like gallifrey-dev.dachary.org",
): string {
  const labels = web.split(".");
  if (web.length > MAX_FQDN || labels.length < 2)
    throw new BadInput(`web name '${web}' is not a fully qualified host name`, fix);
  for (const label of labels) checkLabel(label, `web name '${web}': label`);
  return web;
}

/** Splits an instance name "<name>.<group>.<domain>" back into its parts, or null. */
export function parseInstanceName(
  fqdn: string,
  domain: string,
): { name: string; group: string } | null {
  if (!fqdn.endsWith(`.${domain}`)) return null;
  const parts = fqdn.slice(0, -(domain.length + 1)).split(".");
  if (parts.length !== 2) return null;
  return { name: parts[0]!, group: parts[1]! };
}
