// `farmctl farm init`: the built binary writes an example spec that farmd accepts as it is.
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import { afterAll, describe, expect, it } from "vitest";
import { EXAMPLE_SPEC } from "../../src/cli/farm-example.js";
import { resolveFarm } from "../../src/ops/farm/resolve.js";
import { FARMCTL } from "./farmd-process.js";

const dir = mkdtempSync(join(tmpdir(), "farm-init-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const farmctl = (...args: string[]) =>
  execa("node", [FARMCTL, "farm", "init", ...args], {
    cwd: dir,
    reject: false,
    stripFinalNewline: false,
  });

describe("farmctl farm init", () => {
  it("writes farm.toml by default, a spec that resolves once its required vars are given", async () => {
    const r = await farmctl();
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^wrote farm\.toml: edit it, then run `farmctl farm plan farm\.toml/);
    const text = readFileSync(join(dir, "farm.toml"), "utf8");
    expect(text).toBe(EXAMPLE_SPEC);
    const input = { spec: parse(text), file: "farm.toml", platform: null };
    const farm = resolveFarm({ ...input, vars: { release: "3.2.0", git_rev: "4f2a9c1" } });
    expect(farm.name).toBe("rel-3-2");
    expect(farm.members.map((m) => [m.key, m.name, m.source, m.memory])).toEqual([
      ["build-centos7", "rel-3-2-build-centos7", "builder-centos7", "4G"],
      ["build-debian12", "rel-3-2-build-debian12", "builder-debian12", "6G"],
      ["repo", "rel-3-2-repo", "reprepro", "4G"],
    ]);
    expect(() => resolveFarm({ ...input, vars: {} })).toThrow(
      "farm.toml: missing required variable(s): release, git_rev",
    );
    expect(resolveFarm({ ...input, platform: "debian-12", vars: farm.members[0]!.vars }).name).toBe(
      "rel-3-2",
    );
  });

  it("refuses to overwrite a file (exit 73) unless --force", async () => {
    const file = join(dir, "mine.toml");
    writeFileSync(file, "# my farm\n");
    const r = await farmctl(file);
    expect(r.exitCode).toBe(73);
    expect(r.stderr).toContain(`farmctl: ${file} exists; it was left as it is`);
    expect(r.stderr).toContain("--force");
    expect(readFileSync(file, "utf8")).toBe("# my farm\n");
    expect((await farmctl(file, "--force")).exitCode).toBe(0);
    expect(readFileSync(file, "utf8")).toBe(EXAMPLE_SPEC);
  });

  it("writes to stdout with -, and says why it cannot write elsewhere", async () => {
    const r = await farmctl("-");
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(EXAMPLE_SPEC);
    const nodir = await farmctl(join(dir, "no", "such", "farm.toml"));
    expect(nodir.exitCode).toBe(73);
    expect(nodir.stderr).toMatch(/cannot write .*no\/such\/farm\.toml: ENOENT/);
  });
});
