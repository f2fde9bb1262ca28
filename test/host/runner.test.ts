// The real Runner: every tool gets the C locale, whatever the host's and the caller's environment say.
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processArgv, waitGone } from "../../src/host/process.js";
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

  it("appends stderr to a 0600 file, and returns while a server the command left keeps it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "runner-"));
    const log = join(dir, "server.log");
    // Like guestfish --listen: print a PID, leave a detached child holding stderr, exit.
    const script = `const c = require("node:child_process").spawn("sleep", ["30"],
      { detached: true, stdio: ["ignore", "ignore", "inherit"] });
      c.unref(); process.stderr.write("from the command\\n"); console.log(c.pid);`;
    try {
      const r = await new ExecaRunner().run(["node", "-e", script], { stderrFile: log });
      const server = Number(r.stdout);
      expect(processArgv(server)).toEqual(["sleep", "30"]);
      expect(r.stderr).toBe("");
      expect(readFileSync(log, "utf8")).toBe("from the command\n");
      expect(statSync(log).mode & 0o777).toBe(0o600);
      process.kill(server, "SIGKILL");
      expect(await waitGone([server], 10_000)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
