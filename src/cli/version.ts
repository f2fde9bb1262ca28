// `farmctl --version`: farmctl's version and API, then farmd's when it answers (or why it does not).
import { asFarmError } from "../api/errors.js";
import { API_VERSION, VERSION } from "../api/version.js";
import type { Health } from "../api/health.js";
import { connect } from "../client/connect.js";

export function isVersionRequest(args: readonly string[]): boolean {
  return args.length === 1 && (args[0] === "--version" || args[0] === "-V");
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
