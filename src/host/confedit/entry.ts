// The data one VM contributes to bind, dhcpd, shorewall and nginx, and the checks every renderer
// re-runs on it: a template is an injection path into four services' configs.
import { BadInput } from "../../api/errors.js";
import { CONTROL_CHAR } from "../../api/routes.js";

export interface VmEntry {
  /** Short name, "gallifrey-dev" (a DNS label). */
  name: string;
  /** "xivo". */
  group: string;
  /** Ganeti instance, "gallifrey-dev.xivo.vm.farm". */
  fqdn: string;
  /** Record name relative to the zone, "gallifrey-dev.xivo.vm". */
  zoneName: string;
  /** "10.10.60.6". */
  ip: string;
  /** "52:54:86:b3:3f:10", lowercase. */
  mac: string;
  /** 22006. */
  sshPort: number;
  /** "255.255.255.0". */
  netmask: string;
  /** "VM_GALLIFREY_DEV_XIVO". */
  shorewallParam: string;
  /** Shorewall ORIGDEST column: a shorewall variable ("$IP_FAILOVER") or an IPv4 address. */
  publicAddress: string;
  /** nginx server_name, "gallifrey-dev.dachary.org"; absent = no web proxy. */
  webName?: string;
  /** The variables its templates see (a farm member's, or a clone's --var); absent = none. */
  vars?: Record<string, string>;
  /** Its farm and member key (issue 10); absent or null = no farm. */
  farm?: string | null;
  member?: string | null;
}

/** What every template sees besides the VM's values: `vars`, `farm` and `member` (issue 10). */
export type TemplateScope = Required<Pick<VmEntry, "vars" | "farm" | "member">>;

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const IPV4 = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/;
const PARAM = /^[A-Z_][A-Z0-9_]{0,62}$/;
const SHOREWALL_VAR = /^\$[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function isLabel(s: unknown): s is string {
  return typeof s === "string" && LABEL.test(s);
}

/** One or more labels joined by dots, no trailing dot (a relative or absolute name alike). */
export function isDnsName(s: unknown): s is string {
  return typeof s === "string" && s.length <= 253 && s.split(".").every((l) => LABEL.test(l));
}

export function isIpv4(s: unknown): s is string {
  return typeof s === "string" && IPV4.test(s);
}

export function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

export function isNetmask(s: unknown): s is string {
  if (!isIpv4(s)) return false;
  const n = ipToInt(s);
  const inv = 0xffffffff - n;
  return (inv & (inv + 1)) === 0; // ones then zeros only
}

export function isMac(s: unknown): s is string {
  return typeof s === "string" && MAC.test(s);
}

export function isPort(n: unknown): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;
}

export function isShorewallParam(s: unknown): s is string {
  return typeof s === "string" && PARAM.test(s);
}

export function isPublicAddress(s: unknown): s is string {
  return typeof s === "string" && (SHOREWALL_VAR.test(s) || IPV4.test(s));
}

// The same rule as a clone's --var (ops/guest/vars.ts), checked again where it reaches a config file.
const VAR_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const SCOPE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** A farm or member name as a template sees it: null (no farm) or a plain name. */
export function isScopeName(s: unknown): boolean {
  return s === undefined || s === null || (typeof s === "string" && SCOPE_NAME.test(s));
}

/** Variables: identifiers to single-line strings (no control character: no line of its own). */
export function isVars(v: unknown): boolean {
  if (v === undefined) return true;
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  return Object.entries(v).every(
    ([k, x]) =>
      VAR_KEY.test(k) && typeof x === "string" && x.length <= 1024 && !CONTROL_CHAR.test(x),
  );
}

const CHECKS: { [K in keyof VmEntry]-?: (v: unknown) => boolean } = {
  name: isLabel,
  group: isLabel,
  fqdn: isDnsName,
  zoneName: isDnsName,
  ip: isIpv4,
  mac: isMac,
  sshPort: isPort,
  netmask: isNetmask,
  shorewallParam: isShorewallParam,
  publicAddress: isPublicAddress,
  webName: isDnsName,
  vars: isVars,
  farm: isScopeName,
  member: isScopeName,
};

/** Throws BadInput unless every named field is well-formed; called by each renderer on what it interpolates. */
export function checkEntry(entry: VmEntry, fields: readonly (keyof VmEntry)[]): void {
  for (const f of fields) {
    const v: unknown = entry[f];
    if (!CHECKS[f](v)) {
      throw new BadInput(
        `invalid ${f} ${JSON.stringify(v)} for VM ${JSON.stringify(entry.fqdn)}`,
        `farmctl refuses to write a config line from it; fix the ${f}`,
        { field: f, value: v },
      );
    }
  }
}

/** The block markers carry the fqdn: it must be a plain DNS name before it goes near a file. */
export function checkFqdn(fqdn: string): void {
  if (!isDnsName(fqdn)) {
    throw new BadInput(`invalid instance name ${JSON.stringify(fqdn)}`, "use a DNS name");
  }
}

/** A host template's context: the entry's values with `vars`, `farm` and `member` always defined. */
export function hostContext(entry: VmEntry): VmEntry & TemplateScope {
  checkEntry(entry, ["vars", "farm", "member"]);
  return {
    ...entry,
    vars: entry.vars ?? {},
    farm: entry.farm ?? null,
    member: entry.member ?? null,
  };
}
