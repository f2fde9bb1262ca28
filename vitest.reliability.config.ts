import { defineConfig } from "vitest/config";

// `npm run reliability` (issue 8): the crash, fault, concurrency and hostile-input matrices on one
// shared testbed. Each top-level describe is one figure, each test in it one cell.
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.rel.ts"],
    globalSetup: ["test/tmp-guard.ts", "test/reliability/testbed-setup.ts"],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Every file drives the same testbed: one file at a time, cells in order.
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
