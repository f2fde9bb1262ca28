// Load farmd.toml: --config, then FARMD_CONFIG, then /etc/farmd/farmd.toml (absent = all defaults).
import { readFileSync } from "node:fs";
import { ConfigError } from "../api/errors.js";
import { describeIssues, parseTomlText } from "../api/toml.js";
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
  const raw = parseTomlText(
    text,
    path,
    (message) => new ConfigError(message, "fix the syntax; see farmd.toml(5)"),
  );
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const problems = describeIssues(result.error.issues, configSchema);
    throw new ConfigError(
      `${path}: invalid configuration: ${problems.join("; ")}`,
      "fix these keys; see farmd.toml(5) for each key and its default",
      { problems },
    );
  }
  return result.data;
}
