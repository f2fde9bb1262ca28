// Load farmd.toml: --config, then FARMD_CONFIG, then /etc/farmd/farmd.toml (absent = all defaults).
import { readFileSync } from "node:fs";
import { parse as parseToml, TomlError } from "smol-toml";
import { ConfigError } from "../api/errors.js";
import { configSchema, type Config } from "./schema.js";

export const DEFAULT_CONFIG_PATH = "/etc/farmd/farmd.toml";

export interface LoadedConfig {
  config: Config;
  /** The file read, or null when none existed and the defaults apply. */
  path: string | null;
}

export function configPath(
  explicit?: string,
  env = process.env,
): { path: string; explicit: boolean } {
  if (explicit) return { path: explicit, explicit: true };
  if (env.FARMD_CONFIG) return { path: env.FARMD_CONFIG, explicit: true };
  return { path: DEFAULT_CONFIG_PATH, explicit: false };
}

export function loadConfig(explicit?: string, env = process.env): LoadedConfig {
  const { path, explicit: mustExist } = configPath(explicit, env);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && !mustExist) {
      return { config: parseConfig("", "(defaults)"), path: null };
    }
    throw new ConfigError(
      `${path}: cannot read: ${(err as Error).message}`,
      "check the path given with --config or FARMD_CONFIG",
    );
  }
  return { config: parseConfig(text, path), path };
}

export function parseConfig(text: string, path: string): Config {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (err) {
    const where = err instanceof TomlError ? ` (line ${err.line}, column ${err.column})` : "";
    throw new ConfigError(
      `${path}${where}: not valid TOML: ${(err as Error).message.split("\n")[0]}`,
      "fix the syntax; see farmd.toml(5)",
    );
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const key = i.path.join(".") || "(top level)";
      return i.code === "unrecognized_keys"
        ? `${key}: unknown key(s) ${i.keys.join(", ")}`
        : `${key}: ${i.message}`;
    });
    throw new ConfigError(
      `${path}: invalid configuration: ${problems.join("; ")}`,
      "fix these keys; see farmd.toml(5) for each key and its default",
      { problems },
    );
  }
  return result.data;
}
