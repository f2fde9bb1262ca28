// nunjucks templates of the config fragments farmctl writes; an admin's file of the same name in
// the override dir wins over the built-in one.
import { fileURLToPath } from "node:url";
import nunjucks from "nunjucks";
import { ConfigError } from "../api/errors.js";

export const DEFAULT_OVERRIDE_DIR = "/etc/farmd/templates";

/** <checkout>/templates: src/host/templates.ts and dist/host/templates.js are both two levels down. */
export const BUILTIN_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));

export class Templates {
  private readonly env: nunjucks.Environment;

  constructor(
    readonly overrideDir: string = DEFAULT_OVERRIDE_DIR,
    readonly builtinDir: string = BUILTIN_DIR,
  ) {
    // noCache: an admin's edit applies to the next operation without restarting farmd.
    const loader = new nunjucks.FileSystemLoader([overrideDir, builtinDir], { noCache: true });
    this.env = new nunjucks.Environment(loader, { autoescape: false, throwOnUndefined: true });
    this.env.addFilter("shquote", shquote);
  }

  /** Renders `name` (e.g. "zone-record.njk"); a missing or broken template is a config error. */
  render(name: string, context: object): string {
    try {
      return this.env.render(name, context);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw new ConfigError(
        `template ${name}: ${message}`,
        `check ${this.overrideDir}/${name} if you override it`,
      );
    }
  }
}

/** `{{ v | shquote }}`: one POSIX shell word whatever `v` holds; undefined is an error, not "''". */
export function shquote(v: unknown): string {
  if (v === undefined || v === null)
    throw new Error("shquote: attempted to quote an undefined value");
  return `'${String(v).replaceAll("'", `'\\''`)}'`;
}
