// The host's config fragments (zone, dhcpd, shorewall, nginx) rendered with a VM's vars, farm and
// member: at preflight, so a template naming a variable not given fails before any change; and for
// an update in place, to tell which families' entries a change of variables rewrites.
import * as dhcpd from "../../host/confedit/dhcpd.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import * as nginx from "../../host/confedit/nginx.js";
import * as sw from "../../host/confedit/shorewall.js";
import * as zone from "../../host/confedit/zone.js";
import { withWatchedVars } from "../guest/files.js";
import type { Families, TemplatePort } from "../ports.js";

type Render = (templates: TemplatePort, entry: VmEntry) => string;
export type HostFamily = keyof Families;

const FRAGMENTS: [HostFamily, string, Render][] = [
  ["dns", zone.TEMPLATE, zone.render],
  ["dhcp", dhcpd.TEMPLATE, dhcpd.render],
  ["firewall", sw.RULE_TEMPLATE, sw.renderRule],
  ["firewall", sw.PARAM_TEMPLATE, sw.renderParam],
  ["proxy", nginx.TEMPLATE, (t, e) => nginx.render(t, e)],
];

/** Each family's rendered text for `entry` ("" for proxy without a web name). */
export function hostFragments(templates: TemplatePort, entry: VmEntry): Record<HostFamily, string> {
  const out: Record<HostFamily, string> = { dns: "", dhcp: "", firewall: "", proxy: "" };
  for (const [family, name, render] of FRAGMENTS) {
    if (family === "proxy" && !entry.webName) continue;
    out[family] += withWatchedVars(`template ${name}`, entry.vars ?? {}, (vars) =>
      render(templates, { ...entry, vars }),
    );
  }
  return out;
}

/** Renders every host template the clone will, discarding the text: only the failure matters. */
export function checkHostTemplates(templates: TemplatePort, entry: VmEntry): void {
  hostFragments(templates, entry);
}

/** The families whose entries render differently for `after` than for `before` (new variables). */
export function changedFamilies(
  templates: TemplatePort,
  before: VmEntry,
  after: VmEntry,
): HostFamily[] {
  const was = hostFragments(templates, before);
  const now = hostFragments(templates, after);
  return (Object.keys(now) as HostFamily[]).filter((f) => was[f] !== now[f]);
}
