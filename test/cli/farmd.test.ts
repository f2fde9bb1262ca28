// The farmd process: one per state dir, a clean stop on SIGTERM.
import { execa } from "execa";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

  it("looks for expired leases every [leases] check_interval, and stops on SIGTERM all the same", async () => {
    const farmd = await startFarmd('[leases]\ncheck_interval = "2s"\n');
    try {
      // Logged just after the socket listens: wait for it to show.
      const line = "info: leases: expired VMs are destroyed, checked every 2s";
      while (!farmd.stderr().includes(line)) await new Promise((r) => setTimeout(r, 10));
      process.kill(farmd.child.pid!, "SIGTERM");
      expect((await farmd.child).exitCode).toBe(0);
    } finally {
      await farmd.stop();
    }
  });

  it("refuses a bad [leases] value: exit 78, the key and what it must be", async () => {
    const dir = mkdtempSync(join(tmpdir(), "farmd-"));
    try {
      const config = join(dir, "farmd.toml");
      writeFileSync(
        config,
        `state_dir = "${dir}/state"\nsocket = "${dir}/farmd.sock"\n[leases]\nmax = "30"\n`,
      );
      const r = await execa("node", [FARMD, "--config", config], {
        reject: false,
        timeout: 20_000,
      });
      expect(r.exitCode).toBe(78);
      expect(r.stderr).toContain('leases.max: must be a duration like "30d"');
      expect(existsSync(join(dir, "state"))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
