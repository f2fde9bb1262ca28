// `farmctl farm up SPEC`: brings the farm to its spec through farmd, member by member.
import { Option, type Command } from "commander";
import type { FarmRun, FarmUpRequest } from "../api/farm.js";
import { connect } from "../client/connect.js";
import { startConfirmed } from "./farm-confirm.js";
import { specInput, specOptions, type SpecOptions } from "./farm-options.js";
import { readPlanFile } from "./farm-plan-file.js";
import { dryRun, followFarm, type RunOptions } from "./farm-run.js";

interface UpOptions extends SpecOptions, RunOptions {
  plan?: string;
  yes?: boolean;
  onError?: FarmRun["onError"];
  prune?: boolean;
  dryRun?: boolean;
}

export function registerFarmUp(farm: Command): void {
  specOptions(
    farm
      .command("up")
      .description(
        "create, replace and update the farm's members as its spec says (checks the whole farm first)",
      ),
  )
    .option(
      "--plan <file>",
      "apply this plan from `farm plan -o`; refused if the farm changed since",
    )
    .option("-y, --yes", "replace members (and prune orphans) without asking")
    .addOption(
      new Option(
        "--on-error <mode>",
        "when a member fails (default: the spec's [run] on_error)",
      ).choices(["continue", "stop", "atomic"]),
    )
    .option("--prune", "also destroy the orphans: members recorded but gone from the spec")
    .option("--dry-run", "print what each member's operation would run; change nothing")
    .option("--detach", "print the operation id and return; the farm goes on in farmd")
    .action(async (spec: string, o: UpOptions) => {
      const client = connect({ configPath: o.config });
      const req: FarmUpRequest = {
        ...specInput(spec, o),
        plan: o.plan === undefined ? undefined : readPlanFile(o.plan),
        yes: Boolean(o.yes),
        onError: o.onError,
        prune: Boolean(o.prune),
      };
      if (o.dryRun) return dryRun("up", () => client.planFarmUp(req), o);
      const opId = await startConfirmed((yes) => client.startFarmUp({ ...req, yes }), req.yes);
      if (opId) await followFarm(client, "up", opId, o);
    });
}
