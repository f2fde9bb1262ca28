// `farmctl renew NAME DURATION`: a leased VM (clone --lease) lives DURATION from now.
import { Command, Option } from "commander";
import { connect } from "../client/connect.js";
import { formatExpiry } from "./format.js";
import { printJson } from "./output.js";

export function registerRenew(program: Command): void {
  program
    .command("renew")
    .description(
      "renew the lease of a VM cloned with --lease: farmd destroys it DURATION from now, not before",
    )
    .argument("<name>", "short name of the VM, e.g. builder-42")
    .argument("<duration>", "how long from now, e.g. 2h, 90m or 7d (at most [leases] max)")
    .option("--json", "print one JSON document on stdout")
    .addOption(new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG"))
    .action(async (name: string, duration: string, o: { json?: boolean; config?: string }) => {
      const r = await connect({ configPath: o.config }).renew(name, duration);
      if (o.json) return printJson({ ok: true, result: r });
      process.stdout.write(`renewed the lease of ${r.name}: ${formatExpiry(r.expiresAt)}\n`);
    });
}
