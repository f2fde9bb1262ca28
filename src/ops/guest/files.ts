// [guest.files]: files made inside the guest from templates, with the VM's values and its --var
// variables. A template naming a variable the clone was not given fails before anything changes.
import { BadInput } from "../../api/errors.js";
import { parseMode, parseOwner } from "../../config/guest.js";
import type { Config } from "../../config/schema.js";
import type { VmRecord } from "../../state/inventory.js";
import type { TemplatePort } from "../ports.js";

/** The VM's values a guest template sees (besides `vars`); each was validated before. */
export type GuestVm = Pick<VmRecord, "name" | "group" | "fqdn" | "ip" | "mac" | "sshPort"> & {
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
 * Renders `template` with `vars` watched: a name read that was not given is named in the error
 * (nunjucks only says "undefined value").
 */
export function renderWatched(
  templates: TemplatePort,
  template: string,
  vm: GuestVm,
  vars: Record<string, string>,
): string {
  const missing = new Set<string>();
  const watched = new Proxy(vars, {
    get(target, key) {
      if (typeof key === "string" && !Object.hasOwn(target, key) && !(key in Object.prototype))
        missing.add(key);
      return Reflect.get(target, key);
    },
  });
  try {
    return templates.render(guestTemplate(template), templateContext(vm, watched));
  } catch (err) {
    if (!missing.size) throw err;
    const names = [...missing].map((k) => `vars.${k}`).join(", ");
    const give = [...missing].map((k) => `--var ${k}=VALUE`).join(" ");
    throw new BadInput(
      `guest template ${template} uses ${names}, which this clone was not given`,
      `give it: farmctl clone ... ${give} (or "vars" in the API request)`,
      { template, missing: [...missing] },
    );
  }
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
