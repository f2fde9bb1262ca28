// farmctl doctor's wiring: an invalid farmd.toml is the one fail, named with its key and fix, and
// nothing of the host is asked until it loads (the scripted runner fails on any other command).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/daemon/doctor.js";
import { TOOLS } from "../../src/host/doctor/tools.js";
import { recording, ScriptedRunner } from "../fakes/scripted-runner.js";

const dir = mkdtempSync(join(tmpdir(), "farm-doctor-wiring-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
for (const t of TOOLS) {
  writeFileSync(join(dir, t.name), "#!/bin/sh\n");
  chmodSync(join(dir, t.name), 0o755);
}

const VERSIONS: Record<string, { stdout?: string; stderr?: string }> = {
  "gnt-cluster": { stdout: recording("gnt-cluster-3.0.2-version.txt") },
  lvm: { stdout: recording("lvm-2.03.16-version.txt") },
  dd: { stdout: recording("dd-9.1-version.txt") },
  ionice: { stdout: recording("ionice-2.38.1-version.txt") },
  "named-checkzone": { stdout: recording("named-checkzone-9.18.49-version.txt") },
  dhcpd: { stderr: recording("dhcpd-4.4.3-version-stderr.txt") },
  nginx: { stderr: recording("nginx-1.22.1-version-stderr.txt") },
  shorewall: { stdout: recording("shorewall-5.2.8-version.txt") },
};

describe("runDoctor", () => {
  it("an invalid farmd.toml: the tools are checked, then that one fail, and nothing else is asked", async () => {
    const config = join(dir, "farmd.toml");
    writeFileSync(config, '[ganeti]\nnode = "not a host name"\n');
    const runner = new ScriptedRunner(TOOLS.map((t) => ({ argv: t.argv, ...VERSIONS[t.name] })));
    const report = await runDoctor({ configPath: config, runner, path: dir });
    runner.assertDone();
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c) => c.status === "ok").map((c) => c.id)).toEqual(
      TOOLS.map((t) => `tool ${t.name}`),
    );
    const failed = report.checks.filter((c) => c.status === "fail");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.id).toBe("farmd.toml");
    expect(failed[0]!.detail).toMatch(
      new RegExp(`^${config}: invalid configuration: .*ganeti\\.node`),
    );
    expect(failed[0]!.fix).toBe("fix these keys; see farmd.toml(5) for each key and its default");
    expect(report.checks.at(-1)).toMatchObject({ id: "host", status: "warn" });
  });
});
