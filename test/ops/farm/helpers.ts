// Specs for the farm tests: the issue's own (the example `farm init` writes), resolved from TOML.
import { parse } from "smol-toml";
import type { FarmSpecInput } from "../../../src/api/farm.js";
import { EXAMPLE_SPEC } from "../../../src/cli/farm-example.js";
import { resolveFarm } from "../../../src/ops/farm/resolve.js";

/** The spec of issue 10, as `farmctl farm init` writes it (comments aside). */
export const ISSUE_SPEC = EXAMPLE_SPEC;

export const RELEASE_VARS = { release: "3.2.0", git_rev: "4f2a9c1" };

export function input(toml: string, more: Partial<FarmSpecInput> = {}): FarmSpecInput {
  return { spec: parse(toml), file: "rel.toml", vars: RELEASE_VARS, platform: null, ...more };
}

export const resolve = (toml: string, more: Partial<FarmSpecInput> = {}) =>
  resolveFarm(input(toml, more));

/** The message of what `run` throws (the test fails if it throws nothing). */
export function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("expected a refusal, got none");
}
