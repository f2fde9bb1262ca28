// The built farmctl against an in-process farmd over the simulated host01, for the CLI tests.
import { afterAll, beforeAll } from "vitest";
import { harness, type Harness } from "../ops/clone-harness.js";
import { clientConfig, serveFarmd, type ServedFarmd } from "../daemon/farmd-server.js";
import { farmctl } from "./farmd-process.js";

export interface Simulated {
  h: Harness;
  farmd: ServedFarmd;
  farmctl(...args: string[]): ReturnType<typeof farmctl>;
}

/** Starts one farmd for the file's tests (beforeAll) and removes it with its host (afterAll). */
export function simulatedFarmd(): Simulated {
  const s = {} as Simulated;
  beforeAll(async () => {
    s.h = harness();
    s.farmd = await serveFarmd(s.h);
    const config = clientConfig(s.h, s.farmd);
    s.farmctl = (...args) => farmctl(config, ...args);
  });
  afterAll(async () => {
    await s.farmd.close();
    s.h.cleanup();
  });
  return s;
}
