// Where farmd keeps its state when farmd.toml does not say: a checkout's state/ when the program was
// run from the checkout itself, else /var/lib/farmd (installed, e.g. through /usr/local/sbin/farmd).
import { existsSync, realpathSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Config } from "./schema.js";

export const INSTALLED_STATE = "/var/lib/farmd";

/** The checkout holding this code: src/config/ and dist/config/ are both two levels below it. */
const CHECKOUT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * True when `invokedAs` (argv[1], as typed) lies inside `checkout`. Node resolves the symlink of an
 * installed /usr/local/sbin/farmd to the checkout, so the module's own path cannot tell; argv[1]
 * can. Only its directory is resolved: a checkout reached through a symlinked directory still counts.
 */
export function runFromCheckout(invokedAs: string | undefined, checkout = CHECKOUT): boolean {
  if (!invokedAs) return false;
  let dir: string;
  try {
    dir = realpathSync(dirname(resolve(invokedAs)));
  } catch {
    return false;
  }
  const root = realpathSync(checkout);
  return dir === root || dir.startsWith(root + sep);
}

export function stateDir(config: Config, invokedAs = process.argv[1], checkout = CHECKOUT): string {
  if (config.state_dir) return config.state_dir;
  const own = join(checkout, "state");
  return runFromCheckout(invokedAs, checkout) && existsSync(own) ? own : INSTALLED_STATE;
}

/** LIBGUESTFS_CACHEDIR: [guest] cache_dir, else <state_dir>/guestfs. */
export function guestfsCacheDir(config: Config, state = stateDir(config)): string {
  return config.guest.cache_dir ?? join(state, "guestfs");
}
