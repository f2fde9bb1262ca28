// `farmctl --version`: farmctl's version and API, then farmd's when it answers (or why it does not).
import { asFarmError } from "../api/errors.js";
import { API_VERSION, VERSION } from "../api/version.js";
import type { Health } from "../api/health.js";
import { connect } from "../client/connect.js";
import type { RemoteOptions } from "../client/remote.js";

const REMOTE_FLAGS = ["--remote", "--cert", "--key", "--ca"] as const;

/**
 * `farmctl [--remote URL --cert F --key F [--ca F]] --version`: the remote flags to use then, or
 * null when the arguments are anything else (a command: commander parses them).
 */
export function versionRequest(args: readonly string[]): RemoteOptions | null {
  const flags: Record<string, string> = {};
  let version = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--version" || a === "-V") version = true;
    else if ((REMOTE_FLAGS as readonly string[]).includes(a) && args[i + 1] !== undefined)
      flags[a.slice(2)] = args[++i]!;
    else return null;
  }
  return version ? (flags as RemoteOptions) : null;
}

/** farmd's version and API from its health; a farmd older than both fields says so. */
export function describeFarmd(h: Partial<Health>): string {
  if (h.apiVersion === undefined)
    return "farmd is older than API versioning (its /v1/health has no apiVersion)";
  return `farmd ${h.version ?? "(unknown version)"} speaks API v${h.apiVersion}`;
}

/** Always exits 0: the version is printed even when farmd is down; a mismatch is said on stderr. */
export async function printVersion(): Promise<void> {
  process.stdout.write(`farmctl ${VERSION} (API v${API_VERSION})\n`);
  try {
    const h = await connect({}).health();
    if (h.apiVersion === API_VERSION)
      process.stdout.write(`farmd ${h.version} (API v${h.apiVersion})\n`);
    else
      process.stderr.write(
        `farmd: ${describeFarmd(h)}, farmctl speaks API v${API_VERSION}; install the same version of both and restart farmd\n`,
      );
  } catch (err) {
    const e = asFarmError(err);
    const line = `farmd: ${e.message}${e.hint ? `; ${e.hint}` : ""}\n`;
    // Only a mismatch is a problem worth stderr; farmd being down is a fact of the answer.
    if (e.code === "api_mismatch") process.stderr.write(line);
    else process.stdout.write(line);
  }
}
