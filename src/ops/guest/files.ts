// [guest.files]: files made inside the guest from templates, with the VM's values and its --var
// variables. A template naming a variable the clone was not given fails before anything changes.
import { BadInput } from "../../api/errors.js";
import { parseMode, parseOwner } from "../../config/guest.js";
import type { Config } from "../../config/schema.js";
import type { VmRecord } from "../../state/inventory.js";
import type { TemplatePort } from "../ports.js";

/** The VM's values a guest template sees (besides `vars`); each was validated before. */
export type GuestVm = Pick<
  VmRecord,
  "name" | "group" | "fqdn" | "ip" | "mac" | "sshPort" | "farm" | "member"
> & {
  /** The source VM's instance name. */
  source: string;
};

export interface RenderedFile {
  path: string;
  template: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
}

/** Guest templates live under guest/ in the override dir and in templates/. */
export const guestTemplate = (name: string) => `guest/${name}`;

export function templateContext(vm: GuestVm, vars: Record<string, string>) {
  const { sshPort, ...rest } = vm;
  return { ...rest, ssh_port: sshPort, vars };
}

/**
 * Runs `render` with `vars` watched: the undefined name nunjucks fails on is the last one read that
 * was not given (nunjucks itself only says "undefined value"; `is defined` reads too). `what` names
 * the template in the error, e.g. "guest template hosts.njk".
 */
export function withWatchedVars<T>(
  what: string,
  vars: Record<string, string>,
  render: (watched: Record<string, string>) => T,
): T {
  let lastMissing: string | null = null;
  const watched = new Proxy(vars, {
    get(target, key) {
      if (typeof key === "string" && !Object.hasOwn(target, key) && !(key in Object.prototype))
        lastMissing = key;
      return Reflect.get(target, key);
    },
  });
  try {
    return render(watched);
  } catch (err) {
    // Only an undefined value is a missing variable; a syntax error stays the template's.
    if (lastMissing === null || !/undefined/.test(String((err as Error).message))) throw err;
    throw new BadInput(
      `${what} uses vars.${lastMissing}, which this clone was not given`,
      `give it: --var ${lastMissing}=VALUE to farmctl clone (or "vars" in the API request), or in the farm spec's [vars]`,
      { template: what.split(" ").at(-1), variable: lastMissing },
    );
  }
}

/** Renders a guest template with the VM's values, its farm and member, and `vars` watched. */
export function renderWatched(
  templates: TemplatePort,
  template: string,
  vm: GuestVm,
  vars: Record<string, string>,
): string {
  return withWatchedVars(`guest template ${template}`, vars, (watched) =>
    templates.render(guestTemplate(template), templateContext(vm, watched)),
  );
}

export function renderGuestFiles(
  files: Config["guest"]["files"],
  templates: TemplatePort,
  vm: GuestVm,
  vars: Record<string, string>,
): RenderedFile[] {
  return Object.entries(files)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, f]) => ({
      path,
      template: f.template,
      content: renderWatched(templates, f.template, vm, vars),
      mode: parseMode(f.mode)!,
      ...parseOwner(f.owner)!,
    }));
}
