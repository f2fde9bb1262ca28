// The spec as the client sends it: the TOML file parsed, --var-file then --var merged, the platform.
// (Helper F1 owns this file; this version stands in until theirs lands on main.)
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseToml, TomlError } from "smol-toml";
import type { FarmSpecInput } from "../api/farm.js";
import { BadInput } from "../api/errors.js";
import { parseVars } from "./clone.js";

export interface FarmInputOptions {
  varFiles?: string[];
  /** --var KEY=VALUE, raw. */
  vars?: string[];
  /** --platform; undefined: FARM_PLATFORM; "" or unset: all platforms. */
  platform?: string;
}

function read(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new BadInput(`cannot read ${what} ${file}: ${(err as Error).message}`, "check the path");
  }
}

/** `key = value` lines; `#` and `;` start comments; [sections] are headings only. */
function varFile(file: string): Record<string, string> {
  const vars: Record<string, string> = {};
  read(file, "--var-file")
    .split("\n")
    .forEach((raw, i) => {
      const line = raw.trim();
      if (!line || /^[#;]/.test(line) || /^\[.*\]$/.test(line)) return;
      const eq = line.indexOf("=");
      if (eq < 1)
        throw new BadInput(`${file} line ${i + 1}: not KEY = VALUE`, "write it as release = 3.2.0");
      vars[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
    });
  return vars;
}

export function readFarmInput(file: string, o: FarmInputOptions = {}): FarmSpecInput {
  const path = resolve(file);
  let spec: Record<string, unknown>;
  try {
    spec = parseToml(read(path, "the farm spec"));
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    throw new BadInput(
      `${path} (line ${err.line}, column ${err.column}): not valid TOML: ${err.message.split("\n")[0]}`,
      "fix the syntax; see farmctl-farm(5)",
    );
  }
  const vars = Object.assign({}, ...(o.varFiles ?? []).map(varFile), parseVars(o.vars) ?? {});
  const platform = o.platform ?? process.env.FARM_PLATFORM ?? "";
  return { spec, file: path, vars, platform: platform === "" ? null : platform };
}
