// `farm plan -o PLAN.json` writes the plan; `farm up --plan PLAN.json` reads it back, checked.
import { readFileSync, writeFileSync } from "node:fs";
import { z } from "zod";
import type { FarmPlan } from "../api/farm.js";
import { BadInput, FarmError } from "../api/errors.js";

/** sysexits EX_CANTCREAT. */
const CANT_CREATE = 73;

const named = { member: z.string(), name: z.string() };
const change = z.object({ field: z.string(), from: z.unknown(), to: z.unknown() }).strict();

export const farmPlanSchema = z
  .object({
    farm: z.string(),
    specHash: z.string(),
    basis: z.string(),
    platform: z.string().nullable(),
    actions: z.array(
      z.discriminatedUnion("action", [
        z.object({ action: z.literal("create"), ...named }).strict(),
        z.object({ action: z.literal("replace"), ...named, reasons: z.array(change) }).strict(),
        z.object({ action: z.literal("update"), ...named, changes: z.array(change) }).strict(),
        z.object({ action: z.literal("noop"), ...named }).strict(),
        z.object({ action: z.literal("orphan"), ...named }).strict(),
        z.object({ action: z.literal("refuse"), ...named, reason: z.string() }).strict(),
      ]),
    ),
  })
  .strict();

export function writePlanFile(file: string, plan: FarmPlan): void {
  try {
    writeFileSync(file, JSON.stringify(plan, null, 2) + "\n");
  } catch (err) {
    throw new FarmError(
      "cant_create",
      `cannot write the plan to ${file}: ${(err as Error).message}`,
      CANT_CREATE,
      "give -o a path in a directory you can write",
    );
  }
}

export function readPlanFile(file: string): FarmPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new BadInput(
      `cannot read the plan ${file}: ${(err as Error).message}`,
      "give --plan the file `farmctl farm plan SPEC -o FILE` wrote",
    );
  }
  const parsed = farmPlanSchema.safeParse(doc);
  if (!parsed.success) {
    const where = parsed.error.issues[0]!.path.join(".") || "(top level)";
    throw new BadInput(
      `${file} is not a farm plan: ${where}: ${parsed.error.issues[0]!.message}`,
      "give --plan the file `farmctl farm plan SPEC -o FILE` wrote, unedited",
    );
  }
  return parsed.data as FarmPlan;
}
