// Options the farm commands share: how the spec is read (--var, --var-file, --platform), --config.
import { Option, type Command } from "commander";
import type { FarmSpecInput } from "../api/farm.js";
import { readFarmInput } from "./farm-input.js";

/** Repeated options, kept in order. */
export const collect = (v: string, all: string[] = []) => [...all, v];

export interface CommonOptions {
  json?: boolean;
  config?: string;
}

export interface SpecOptions extends CommonOptions {
  var?: string[];
  varFile?: string[];
  platform?: string;
}

export const configOption = () =>
  new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG");

export const platformOption = () =>
  new Option(
    "--platform <platform>",
    "act only on the members of this platform (default FARM_PLATFORM; empty: all)",
  );

/** The options of `farm plan` and `farm up`: the spec's variables and platform. */
export function specOptions(cmd: Command): Command {
  return cmd
    .argument("<spec>", "the farm's spec, a TOML file (see farmctl-farm(5))")
    .option(
      "--var <key=value>",
      "a variable over the spec's [vars] and the --var-files; repeat for more",
      collect,
    )
    .option(
      "--var-file <file>",
      "variables from an ini file (key = value); repeat for more",
      collect,
    )
    .addOption(platformOption())
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption());
}

export function specInput(file: string, o: SpecOptions): FarmSpecInput {
  return readFarmInput(file, {
    varFiles: o.varFile ?? [],
    vars: o.var ?? [],
    platform: o.platform,
  });
}

/** `farm down`'s platform, as readFarmInput takes it for plan and up: empty is all. */
export function platformOf(o: { platform?: string }): string | null {
  const p = o.platform ?? process.env.FARM_PLATFORM ?? "";
  return p === "" ? null : p;
}
