#!/usr/bin/env node
// farmctl: the command line. Parses arguments, calls the client, renders; exit codes per sysexits.
import { Command, CommanderError } from "commander";
import { asFarmError, EXIT } from "../api/errors.js";
import { VERSION } from "../api/version.js";
import { registerAudit } from "./audit.js";
import { registerClone } from "./clone.js";
import { registerInventory } from "./inventory.js";
import { registerDestroy } from "./destroy.js";
import { registerFarm } from "./farm.js";
import { registerOps } from "./ops.js";
import { registerRenew } from "./renew.js";
import { printError } from "./output.js";

export function program(): Command {
  const p = new Command("farmctl")
    .description("clone and manage the build-farm VMs of a Ganeti/LVM/KVM host")
    .version(`farmctl ${VERSION}`)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError("(run `farmctl --help` for usage)");
  registerClone(p);
  registerDestroy(p);
  registerInventory(p);
  registerRenew(p);
  registerAudit(p);
  registerOps(p);
  registerFarm(p);
  return p;
}

export async function main(argv: string[]): Promise<number> {
  // `farm plan --detailed-exitcode`: 2 means changes, so every error (usage too) exits 1.
  const failed = (code: number) => (argv.includes("--detailed-exitcode") ? EXIT.failed : code);
  try {
    await program().parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : failed(EXIT.usage);
    }
    const json = argv.includes("--json");
    const fe = asFarmError(err);
    printError(fe, json);
    if (fe.exitCode === EXIT.internal && process.env.FARMCTL_DEBUG) console.error(err);
    return failed(fe.exitCode);
  }
}

main(process.argv).then((code) => {
  process.exitCode = code;
});
