// Where farmd keeps its state when farmd.toml does not say: a checkout's state/, else /var/lib/farmd.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Config } from "./schema.js";

/** <checkout>/state: src/config/ and dist/config/ are both two levels below the checkout. */
const CHECKOUT_STATE = fileURLToPath(new URL("../../state", import.meta.url));

export function stateDir(config: Config): string {
  if (config.state_dir) return config.state_dir;
  return existsSync(CHECKOUT_STATE) ? CHECKOUT_STATE : "/var/lib/farmd";
}
