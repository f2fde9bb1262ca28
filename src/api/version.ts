// The version both programs report: package.json's, read where the code runs (src/ or dist/).
import { readFileSync } from "node:fs";
import { EXIT, FarmError } from "./errors.js";

export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/** The wire contract's version: bumped when a route or a body changes incompatibly. */
export const API_VERSION = 1;

/** Every farmd answer carries its API version, so a client can tell before it misreads a body. */
export const API_VERSION_HEADER = "farmd-api-version";
export const VERSION_HEADER = "farmd-version";

/** A farmd whose API differs from this farmctl's: both versions, and the fix. */
export function apiMismatch(farmdApi: number, farmdVersion?: string): FarmError {
  const farmd = farmdVersion ? `farmd ${farmdVersion}` : "farmd";
  return new FarmError(
    "api_mismatch",
    `farmctl ${VERSION} speaks farmd API v${API_VERSION}, but ${farmd} speaks API v${farmdApi}`,
    EXIT.unavailable,
    farmdApi > API_VERSION
      ? "upgrade farmctl to farmd's version (the same package installs both)"
      : "upgrade farmd and restart it (`systemctl restart farmd`), or use the farmctl of farmd's version",
    {
      farmctl: VERSION,
      farmctlApi: API_VERSION,
      farmdApi,
      ...(farmdVersion ? { farmdVersion } : {}),
    },
  );
}
