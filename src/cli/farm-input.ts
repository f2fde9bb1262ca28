// What `farm plan` and `farm up` send farmd: the spec as parsed TOML, the variables given on the
// command line (--var-file files in order, then --var over them), and the platform to act on.
import { readFileSync } from "node:fs";
import { BadInput, EXIT, FarmError } from "../api/errors.js";
import type { FarmSpecInput } from "../api/farm.js";
import { parseTomlText } from "../api/toml.js";
import { parseVars } from "./clone.js";
import { readVarFile } from "./varfile.js";

export interface FarmInputOptions {
  varFiles?: string[];
  /** Raw "KEY=VALUE" of each --var. */
  vars?: string[];
  /** --platform; undefined: FARM_PLATFORM from the environment. Empty: all platforms. */
  platform?: string;
}

export function readFarmInput(
  file: string,
  o: FarmInputOptions,
  env: NodeJS.ProcessEnv = process.env,
): FarmSpecInput {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new FarmError(
      "bad_usage",
      `${file}: cannot read the farm spec: ${(err as Error).message}`,
      EXIT.badUsage,
      "give the path of a spec; `farmctl farm init` writes an example",
    );
  }
  const spec = parseTomlText(
    text,
    file,
    (message) => new BadInput(message, "fix the syntax; see farmctl-farm(5)"),
  );
  const dates = datesIn(spec, []);
  if (dates.length)
    throw new BadInput(
      dates.map((at) => `${file}: ${at}: is a TOML date, which no key of a spec takes`).join("\n"),
      'write it in quotes, like "2026-12-02"',
    );
  // Spread, not assignment: a variable named __proto__ stays a variable.
  const vars = [...(o.varFiles ?? []).map(readVarFile), parseVars(o.vars)].reduce<
    Record<string, string>
  >((all, some) => ({ ...all, ...some }), {});
  const platform = o.platform ?? env.FARM_PLATFORM ?? "";
  return { spec, file, vars, platform: platform === "" ? null : platform };
}

/** Key paths of TOML dates: sent as JSON they would reach farmd as strings it never saw quoted. */
function datesIn(value: unknown, path: string[]): string[] {
  if (value instanceof Date) return [path.join(".")];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => datesIn(v, [...path, k]));
}
