// `farmctl farm down NAME`: destroys the farm's members from its record alone (no spec needed).
import type { Command } from "commander";
import { connect } from "../client/connect.js";
import { startConfirmed } from "./farm-confirm.js";
import { configOption, platformOf, platformOption, type CommonOptions } from "./farm-options.js";
import { dryRun, followFarm, type RunOptions } from "./farm-run.js";

interface DownOptions extends CommonOptions, RunOptions {
  platform?: string;
  force?: boolean;
  yes?: boolean;
  dryRun?: boolean;
}

export function registerFarmDown(farm: Command): void {
  farm
    .command("down")
    .description(
      "destroy the farm's members (last first), then its record; never a VM that is not wholly its own",
    )
    .argument("<name>", "the farm's name (its spec's `name`)")
    .addOption(platformOption())
    .option("--force", "destroy protected members too")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--dry-run", "print what would be destroyed and kept; change nothing")
    .option("--detach", "print the operation id and return; the farm goes on in farmd")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (name: string, o: DownOptions) => {
      const client = connect({ configPath: o.config });
      const req = { name, platform: platformOf(o), force: Boolean(o.force), yes: Boolean(o.yes) };
      if (o.dryRun) return dryRun("down", () => client.planFarmDown(req), o);
      const opId = await startConfirmed((yes) => client.startFarmDown({ ...req, yes }), req.yes);
      if (opId) await followFarm(client, "down", opId, o);
    });
}
