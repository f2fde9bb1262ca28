import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/tmp-guard.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share loop devices, namespaces and ports: run files one at a time.
    fileParallelism: false,
  },
});
