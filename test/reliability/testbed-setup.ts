// One testbed for a whole reliability or bench run: cells reset it between them instead of
// rebuilding it (a rebuild is ~15 s, and the matrices have dozens of cells).
import type { TestProject } from "vitest/node";
import { Testbed, unavailableReason } from "../testbed/testbed.js";

declare module "vitest" {
  export interface ProvidedContext {
    testbedDir: string;
  }
}

export default async function setup(project: TestProject) {
  const why = unavailableReason();
  if (why) throw new Error(`this run needs the testbed: ${why}`);
  const tb = new Testbed();
  await tb.up();
  project.provide("testbedDir", tb.dir);
  return () => tb.down();
}
