import { defineConfig } from "vitest/config";

// `npm run bench` (issue 10): figures measured in one run on one shared testbed (each test one
// figure, set on its meta; test/bench/summary.mjs prints them against their targets).
export default defineConfig({
  test: {
    include: ["test/bench/**/*.bench.ts"],
    globalSetup: ["test/tmp-guard.ts", "test/reliability/testbed-setup.ts"],
    testTimeout: 3_600_000,
    hookTimeout: 600_000,
    // Every figure times the same testbed: one file at a time, tests in order.
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
