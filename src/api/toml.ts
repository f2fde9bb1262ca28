// TOML files as farmd and farmctl read them (farmd.toml, farm specs): a syntax error names the
// file, line and column; a schema refusal names each key path, and the key meant by a typo.
import { parse, TomlError } from "smol-toml";
import type { z } from "zod";
import { closest } from "./suggest.js";

/** Parses `text`; a syntax error becomes `fail(message)` naming file, line and column. */
export function parseTomlText(text: string, file: string, fail: (message: string) => Error) {
  try {
    return parse(text) as Record<string, unknown>;
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : "";
    throw fail(`${file}${where}: not valid TOML: ${(err as Error).message.split("\n")[0]}`);
  }
}

/** Each zod issue as "key.path: problem"; an unknown key says which known key it may be. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): string[] {
  return issues.map((i) => {
    const key = i.path.join(".") || "(top level)";
    if (i.code !== "unrecognized_keys") return `${key}: ${i.message}`;
    const known = keysAt(schema, i.path);
    const named = i.keys.map((k) => {
      const meant = closest(k, known);
      return meant ? `${k} (did you mean ${meant}?)` : k;
    });
    return `${key}: unknown key(s) ${named.join(", ")}`;
  });
}

/** The keys an object of `schema` takes at `path` (through defaults, pipes and records). */
function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let s: unknown = schema;
  let i = 0;
  for (;;) {
    const def = (s as { _zod?: { def: Record<string, any> } })?._zod?.def;
    if (!def) return [];
    if (def.type === "object") {
      if (i === path.length) return Object.keys(def.shape);
      s = def.shape[path[i++] as string];
    } else if (def.type === "record") {
      if (i++ === path.length) return [];
      s = def.valueType;
    } else if (def.type === "pipe") s = def.in;
    else if ("innerType" in def) s = def.innerType;
    else return [];
  }
}
