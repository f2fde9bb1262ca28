#!/usr/bin/env node
// farmctl: the command line. Parses arguments, calls the client, renders; exit codes per sysexits.
import { Command, CommanderError } from "commander";
import { asFarmError, EXIT } from "../api/errors.js";
import { printVersion, versionRequest } from "./version.js";
import { registerAudit } from "./audit.js";
import { registerCa } from "./ca.js";
import { registerClone } from "./clone.js";
import { registerInventory } from "./inventory.js";
import { registerDestroy } from "./destroy.js";
import { registerDoctor } from "./doctor.js";
import { registerCompletion } from "./completion.js";
import { registerFarm } from "./farm.js";
import { registerOps } from "./ops.js";
import { registerLog } from "./log.js";
import { registerRenew } from "./renew.js";
import { printError } from "./output.js";
import { useRemoteFlags } from "../client/connect.js";
import type { RemoteOptions } from "../client/remote.js";

export function program(): Command {
  const p = new Command("farmctl")
    .description("clone and manage the build-farm VMs of a Ganeti/LVM/KVM host")
    // Handled before commander (see main): it also asks farmd for its version.
    .option("-V, --version", "print farmctl's version and API, and farmd's when it answers")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError("(run `farmctl --help` for usage)")
    // A remote farmd (see farmctl(1)): flags over FARMCTL_REMOTE/_CERT/_KEY/_CA over config.toml.
    .option("--remote <url>", "farmd's TLS listener, like https://host01.farm:8443")
    .option("--cert <file>", "client certificate (PEM) from `farmctl ca issue`, for --remote")
    .option("--key <file>", "its private key (PEM), for --remote")
    .option("--ca <file>", "farmd's CA certificate (default: the ones after the leaf in --cert)")
    .hook("preAction", (root) => useRemoteFlags(root.opts<RemoteOptions>()));
  registerClone(p);
  registerDestroy(p);
  registerInventory(p);
  registerRenew(p);
  registerAudit(p);
  registerOps(p);
  registerFarm(p);
  registerLog(p);
  registerCa(p);
  registerDoctor(p);
  registerCompletion(p);
  return p;
}

export async function main(argv: string[]): Promise<number> {
  // `farm plan --detailed-exitcode`: 2 means changes, so every error (usage too) exits 1.
  const failed = (code: number) => (argv.includes("--detailed-exitcode") ? EXIT.failed : code);
  try {
    const version = versionRequest(argv.slice(2));
    if (version) {
      useRemoteFlags(version);
      await printVersion();
      return EXIT.ok;
    }
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
