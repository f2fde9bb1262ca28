import { defineConfig } from "vitest/config";

// `npm run test:deb`: the Debian package's check (test/deb/package.deb.ts), alone, after `npm test`:
// it installs the package into this machine, which the suite's files must not see.
export default defineConfig({
  test: {
    include: ["test/deb/*.deb.ts"],
    globalSetup: ["test/tmp-guard.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
