// What debian/ ships that the code defines: the conffile /etc/farmd/farmd.toml (debian/farmd.toml)
// lists every key of the schema, commented out at its default; the changelog is at package.json's version.
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { parseConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";

const CONFFILE = new URL("../../debian/farmd.toml", import.meta.url).pathname;
const text = readFileSync(CONFFILE, "utf8");

/** "#key = value" lines (no space after '#') are settings; "# ..." lines are prose. */
const uncommented = text.replace(/^#(?=[A-Za-z_])/gm, "");

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: z.ZodRawShape };
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schema under optional/default/prefault/pipe wrappers, or null for a leaf. */
function objectOf(schema: z.ZodType): z.ZodRawShape | null {
  const def = defOf(schema);
  if (def.type === "object") return def.shape ?? null;
  if (def.innerType) return objectOf(def.innerType);
  if (def.type === "pipe" && def.in) return objectOf(def.in);
  return null;
}

/** Every key's dotted path, sections included ("dns", "dns.zone_file", ...). */
function schemaPaths(schema: z.ZodType, prefix = ""): string[] {
  const shape = objectOf(schema);
  if (!shape) return [];
  return Object.entries(shape).flatMap(([key, sub]) => [
    prefix + key,
    ...schemaPaths(sub as z.ZodType, `${prefix}${key}.`),
  ]);
}

function tomlPaths(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => [prefix + k, ...tomlPaths(v, `${prefix}${k}.`)]);
}

/** `value` restricted to the keys `like` has (an example given for a key without default goes). */
function restrictTo(value: unknown, like: unknown): unknown {
  if (typeof like !== "object" || like === null || Array.isArray(like)) return value;
  const v = value as Record<string, unknown>;
  return Object.fromEntries(Object.entries(like).map(([k, l]) => [k, restrictTo(v[k], l)]));
}

describe("debian/farmd.toml (the package's conffile)", () => {
  const defaults = parseConfig("", "(defaults)");

  it("names every key of the schema, each in its section", () => {
    const paths = schemaPaths(configSchema);
    expect(paths).toEqual(expect.arrayContaining(["socket", "dns.zone_file", "api.listen"]));
    const present = new Set(tomlPaths(parse(uncommented)));
    // records (socket_roles, guest.files) are one key each: their entries are the admin's.
    const missing = paths.filter(
      (p) => !present.has(p) && !/^(socket_roles|guest\.files)\./.test(p),
    );
    expect(missing).toEqual([]);
  });

  it("every commented-out value is the key's default (or a valid example where it has none)", () => {
    const all = parseConfig(uncommented, CONFFILE);
    expect(restrictTo(all, defaults)).toEqual(defaults);
  });

  it("as shipped, is the defaults plus the socket group the package creates", () => {
    expect(parseConfig(text, CONFFILE)).toEqual({ ...defaults, socket_group: "farmd" });
  });

  it("sets no key outside the schema (a typo would make farmd refuse to start)", () => {
    const known = new Set(schemaPaths(configSchema));
    const unknown = tomlPaths(parse(uncommented)).filter(
      (p) => !known.has(p) && !/^(socket_roles|guest\.files)\./.test(p),
    );
    expect(unknown).toEqual([]);
  });
});

describe("debian/changelog", () => {
  it("is at package.json's version (the .deb's name and farmctl --version agree)", () => {
    const changelog = readFileSync(new URL("../../debian/changelog", import.meta.url), "utf8");
    const pkg = JSON.parse(
      readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
    ) as { version: string };
    expect(/^farmctl \(([^)]+)\)/.exec(changelog)?.[1]).toBe(pkg.version);
  });
});
