// `farmctl farm status NAME` and `farmctl farm list`: the farms farmd records, read only.
import type { Command } from "commander";
import { connect } from "../client/connect.js";
import { configOption, type CommonOptions } from "./farm-options.js";
import { listTable, statusText } from "./farm-view.js";
import { printJson } from "./output.js";

export function registerFarmStatus(farm: Command): void {
  farm
    .command("status")
    .description(
      "each member's VM, state, address, SSH port, web name, variables, and drift against the record",
    )
    .argument("<name>", "the farm's name")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (name: string, o: CommonOptions) => {
      const status = await connect({ configPath: o.config }).farm(name);
      if (o.json) printJson({ ok: true, status });
      else process.stdout.write(statusText(status));
    });

  farm
    .command("list")
    .description("the farms farmd records: members, spec file, last change")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (o: CommonOptions) => {
      const farms = await connect({ configPath: o.config }).farms();
      if (o.json) printJson({ ok: true, farms });
      else process.stdout.write(listTable(farms));
    });
}
