// `farmctl farm ...`: staging farms (issue 10), one command group; `farm init` writes an example spec.
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { FarmError } from "../api/errors.js";
import { EXAMPLE_SPEC } from "./farm-example.js";
import { registerFarmCommands } from "./farm-commands.js";

/** The `farm` group: plan, up, down, status and list register on it next to init. */
export function registerFarm(program: Command): Command {
  const farm = program
    .command("farm")
    .description(
      "staging farms: bring up, converge and tear down a set of VMs described in one spec",
    );
  farm
    .command("init")
    .description("write a commented example farm spec (see farmctl-farm(5))")
    .argument("[file]", "where to write it; - for stdout", "farm.toml")
    .option("--force", "overwrite FILE if it exists")
    .action((file: string, o: { force?: boolean }) => {
      if (file === "-") return void process.stdout.write(EXAMPLE_SPEC);
      writeSpec(file, Boolean(o.force));
      process.stdout.write(
        `wrote ${file}: edit it, then run \`farmctl farm plan ${file} --var release=... --var git_rev=...\`\n`,
      );
    });
  registerFarmCommands(farm);
  return farm;
}

function writeSpec(file: string, force: boolean): void {
  try {
    writeFileSync(file, EXAMPLE_SPEC, { flag: force ? "w" : "wx", mode: 0o644 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST")
      throw new FarmError(
        "already_exists",
        `${file} exists; it was left as it is`,
        73,
        "give another file name, or --force to overwrite it",
      );
    const denied = code === "EACCES" || code === "EPERM";
    throw new FarmError(
      denied ? "permission_denied" : "cannot_create",
      `cannot write ${file}: ${(err as Error).message}`,
      denied ? 77 : 73,
      denied ? "write it somewhere you may, or as a user who may" : "check the directory exists",
    );
  }
}
