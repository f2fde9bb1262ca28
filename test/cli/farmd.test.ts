// The farmd process: one per state dir, a clean stop on SIGTERM.
import { execa } from "execa";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { FARMD, startFarmd } from "./farmd-process.js";

describe("farmd", () => {
  it("refuses to start when another farmd holds the state", async () => {
    const first = await startFarmd();
    try {
      const second = await execa("node", [FARMD, "--config", first.config], {
        reject: false,
        timeout: 20_000,
      });
      expect(second.exitCode).toBe(75);
      expect(second.stderr).toContain(`is held by pid ${first.child.pid} (farmd)`);
      expect(existsSync(first.socket)).toBe(true); // the first one's socket is untouched
    } finally {
      await first.stop();
    }
  });

  it("stops on SIGTERM: exit 0, socket removed, stop logged", async () => {
    const farmd = await startFarmd();
    process.kill(farmd.child.pid!, "SIGTERM");
    const r = await farmd.child;
    expect(r.exitCode).toBe(0);
    expect(existsSync(farmd.socket)).toBe(false);
    expect(farmd.stderr()).toMatch(/info: SIGTERM: taking no new operations/);
    expect(farmd.stderr()).toMatch(/info: stopped/);
    await farmd.stop();
  });
});
