// The farm commands of issue 10 (plan, up, down, status, list) on the `farm` group (next to init).
import type { Command } from "commander";
import { registerFarmDown } from "./farm-down.js";
import { registerFarmPlan } from "./farm-plan.js";
import { registerFarmStatus } from "./farm-status.js";
import { registerFarmUp } from "./farm-up.js";

export function registerFarmCommands(farm: Command): void {
  registerFarmPlan(farm);
  registerFarmUp(farm);
  registerFarmDown(farm);
  registerFarmStatus(farm);
}
