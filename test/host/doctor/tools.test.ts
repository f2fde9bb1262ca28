// Each tool's check on its recorded version output; a tool not on PATH fails without running it.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkTool, TOOLS } from "../../../src/host/doctor/tools.js";
import { recording, ScriptedRunner } from "../../fakes/scripted-runner.js";

const bin = mkdtempSync(join(tmpdir(), "farm-doctor-bin-"));
for (const t of TOOLS) {
  writeFileSync(join(bin, t.name), "#!/bin/sh\nexit 0\n");
  chmodSync(join(bin, t.name), 0o755);
}
afterAll(() => rmSync(bin, { recursive: true, force: true }));

const tool = (name: string) => TOOLS.find((t) => t.name === name)!;

/** Each tool, its recorded stdout and stderr, and the version a user reads. */
const CASES: [string, string | null, string | null, string][] = [
  ["gnt-cluster", "gnt-cluster-3.0.2-version.txt", null, "3.0.2-3"],
  ["lvm", "lvm-2.03.16-version.txt", "lvm-2.03.16-version-stderr.txt", "2.03.16(2)"],
  ["dd", "dd-9.1-version.txt", null, "9.1"],
  ["ionice", "ionice-2.38.1-version.txt", null, "2.38.1"],
  ["named-checkzone", "named-checkzone-9.18.49-version.txt", null, "9.18.49-1~deb12u3-Debian"],
  ["dhcpd", null, "dhcpd-4.4.3-version-stderr.txt", "4.4.3-P1"],
  ["nginx", null, "nginx-1.22.1-version-stderr.txt", "1.22.1"],
  ["shorewall", "shorewall-5.2.8-version.txt", null, "5.2.8"],
];

describe("tool checks", () => {
  it("covers every tool the issue lists", () => {
    expect(CASES.map((c) => c[0]).sort()).toEqual(TOOLS.map((t) => t.name).sort());
  });

  it.each(CASES)("%s: ok with the version it reports", async (name, out, err, version) => {
    const runner = new ScriptedRunner([
      {
        argv: tool(name).argv,
        stdout: out ? recording(out) : "",
        stderr: err ? recording(err) : "",
      },
    ]);
    const c = await checkTool(runner, tool(name), bin);
    runner.assertDone();
    expect(c).toEqual({
      id: `tool ${name}`,
      status: "ok",
      detail: `${version} (${join(bin, name)})`,
    });
  });

  it("a tool not on PATH fails with the package to install, and is not run", async () => {
    const runner = new ScriptedRunner();
    const empty = mkdtempSync(join(tmpdir(), "farm-doctor-empty-"));
    try {
      const c = await checkTool(runner, tool("ionice"), empty);
      expect(c.status).toBe("fail");
      expect(c.detail).toBe(`ionice is not on PATH (${empty})`);
      expect(c.fix).toMatch(/^apt install util-linux /);
      expect(runner.calls).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("a tool that answers without a version fails with its output", async () => {
    const runner = new ScriptedRunner([
      {
        argv: tool("nginx").argv,
        exitCode: 127,
        stderr: "nginx: error while loading shared libraries\n",
      },
    ]);
    const c = await checkTool(runner, tool("nginx"), bin);
    expect(c.status).toBe("fail");
    expect(c.detail).toContain("exited 127: nginx: error while loading shared libraries");
    expect(c.fix).toMatch(/^reinstall nginx/);
  });
});
