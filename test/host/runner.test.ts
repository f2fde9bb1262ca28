// The real Runner: every tool gets the C locale, whatever the host's and the caller's environment say.
import { describe, expect, it } from "vitest";
import { ExecaRunner } from "../../src/host/runner.js";

describe("ExecaRunner", () => {
  it("runs every tool with LC_ALL=C, even when the host and the caller ask for another locale", async () => {
    const saved = process.env.LC_ALL;
    process.env.LC_ALL = "fr_FR.UTF-8";
    try {
      const r = await new ExecaRunner().run(["printenv", "LC_ALL"], {
        readOnly: true,
        env: { LC_ALL: "de_DE.UTF-8" },
      });
      expect(r.stdout).toBe("C\n");
    } finally {
      if (saved === undefined) delete process.env.LC_ALL;
      else process.env.LC_ALL = saved;
    }
  });
});
