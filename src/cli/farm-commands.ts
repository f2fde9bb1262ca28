// The farm commands of issue 10 (plan, up, down, status, list) under `farmctl farm`.
import type { Command } from "commander";
import { registerFarmDown } from "./farm-down.js";
import { registerFarmPlan } from "./farm-plan.js";
import { registerFarmStatus } from "./farm-status.js";
import { registerFarmUp } from "./farm-up.js";

/** The `farm` group, made here unless another part (`farm init`) already made it. */
function farmGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "farm") ??
    program
      .command("farm")
      .description("staging farms: bring up, change and tear down a set of VMs from one spec")
  );
}

export function registerFarmCommands(program: Command): void {
  const farm = farmGroup(program);
  registerFarmPlan(farm);
  registerFarmUp(farm);
  registerFarmDown(farm);
  registerFarmStatus(farm);
}
