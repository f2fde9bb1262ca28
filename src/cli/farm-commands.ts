// The farm commands of issue 10 (plan, up, down, status, list) under `farmctl farm`.
import type { Command } from "commander";
import { registerFarmDown } from "./farm-down.js";
import { registerFarmPlan } from "./farm-plan.js";
import { registerFarmStatus } from "./farm-status.js";
import { registerFarmUp } from "./farm-up.js";

/** Registers plan, up, down and status on the `farm` group that registerFarm made. */
export function registerFarmCommands(farm: Command): void {
  registerFarmPlan(farm);
  registerFarmUp(farm);
  registerFarmDown(farm);
  registerFarmStatus(farm);
}
