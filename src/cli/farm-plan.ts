// `farmctl farm plan SPEC`: what `farm up` would do, per member; -o saves it for `up --plan`.
import type { Command } from "commander";
import { EXIT } from "../api/errors.js";
import type { FarmPlan } from "../api/farm.js";
import { connect } from "../client/connect.js";
import { specInput, specOptions, type SpecOptions } from "./farm-options.js";
import { writePlanFile } from "./farm-plan-file.js";
import { planChanges, planRefuses, planSummary, planTable } from "./farm-view.js";
import { printJson } from "./output.js";

interface PlanOptions extends SpecOptions {
  output?: string;
  detailedExitcode?: boolean;
}

/** Refused members: `farm up` refuses the farm while one is (its preflight checks every name). */
function refusalText(refused: FarmPlan["actions"]): string {
  return (
    `farmctl: farm up would refuse ${refused.length} member(s): ` +
    refused.map((a) => a.name).join(", ") +
    "\n  rename the member (`name = ...` in its [members.KEY]) or remove the VM holding the name\n"
  );
}

export function registerFarmPlan(farm: Command): void {
  specOptions(
    farm
      .command("plan")
      .description(
        "show what `farm up` would do per member: create, replace (why), update, unchanged, orphan, refuse",
      ),
  )
    .option("-o, --output <file>", "save the plan as JSON, for `farm up SPEC --plan FILE`")
    .option(
      "--detailed-exitcode",
      "exit 0 when nothing would change, 2 when something would, 1 on any error",
    )
    .action(async (spec: string, o: PlanOptions) => {
      const plan = await connect({ configPath: o.config }).planFarm(specInput(spec, o));
      if (o.output) writePlanFile(o.output, plan);
      const refused = planRefuses(plan);
      if (o.json) printJson({ ok: !refused.length, plan });
      else {
        process.stdout.write(planTable(plan) + planSummary(plan));
        if (o.output)
          process.stderr.write(
            `plan saved to ${o.output}: apply it with \`farmctl farm up ${spec} --plan ${o.output}\`\n`,
          );
      }
      if (refused.length) {
        if (!o.json) process.stderr.write(refusalText(refused));
        process.exitCode = o.detailedExitcode ? EXIT.failed : EXIT.dataErr;
      } else if (o.detailedExitcode) process.exitCode = planChanges(plan) ? 2 : EXIT.ok;
    });
}
