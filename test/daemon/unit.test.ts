// The shipped systemd unit is one systemd accepts, and it keeps the hardening it promises.
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const UNIT = readFileSync(new URL("../../src/daemon/farmd.service", import.meta.url), "utf8");
const hasAnalyze =
  (await execa("systemd-analyze", ["--version"], { reject: false }).catch(() => ({ exitCode: 1 })))
    .exitCode === 0;

describe("farmd.service", () => {
  it.skipIf(!hasAnalyze)("passes systemd-analyze verify", async () => {
    const dir = mkdtempSync(join(tmpdir(), "farmd-unit-"));
    // The unit names the installed path; point it at an executable that exists here.
    writeFileSync(
      join(dir, "farmd.service"),
      UNIT.replace("ExecStart=/usr/local/sbin/farmd", "ExecStart=/usr/bin/node"),
    );
    const r = await execa("systemd-analyze", ["verify", "--man=no", join(dir, "farmd.service")], {
      reject: false,
    }).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("runs hardened, with its runtime and state directories", () => {
    for (const line of [
      "RuntimeDirectory=farmd",
      "StateDirectory=farmd",
      "ProtectSystem=yes",
      "PrivateTmp=yes",
      "ProtectHome=yes",
      "NoNewPrivileges=yes",
      "KillMode=mixed",
    ]) {
      expect(UNIT).toContain(`\n${line}\n`);
    }
  });
});
