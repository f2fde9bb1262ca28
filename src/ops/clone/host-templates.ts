// The host's config fragments (zone, dhcpd, shorewall, nginx) rendered at preflight with the clone's
// vars, farm and member: a template naming a variable the clone was not given fails before any change.
import * as dhcpd from "../../host/confedit/dhcpd.js";
import type { VmEntry } from "../../host/confedit/entry.js";
import * as nginx from "../../host/confedit/nginx.js";
import * as sw from "../../host/confedit/shorewall.js";
import * as zone from "../../host/confedit/zone.js";
import { withWatchedVars } from "../guest/files.js";
import type { TemplatePort } from "../ports.js";

type Render = (templates: TemplatePort, entry: VmEntry) => string;

const FRAGMENTS: [string, Render][] = [
  [zone.TEMPLATE, zone.render],
  [dhcpd.TEMPLATE, dhcpd.render],
  [sw.RULE_TEMPLATE, sw.renderRule],
  [sw.PARAM_TEMPLATE, sw.renderParam],
];

/** Renders every host template the clone will, discarding the text: only the failure matters. */
export function checkHostTemplates(templates: TemplatePort, entry: VmEntry): void {
  const fragments: [string, Render][] = entry.webName
    ? [...FRAGMENTS, [nginx.TEMPLATE, (t, e) => nginx.render(t, e)]]
    : FRAGMENTS;
  for (const [name, render] of fragments) {
    withWatchedVars(`template ${name}`, entry.vars ?? {}, (vars) =>
      render(templates, { ...entry, vars }),
    );
  }
}
