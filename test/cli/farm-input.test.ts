// `farm plan`/`farm up`'s input: the spec file, --var-file files, --var, --platform/FARM_PLATFORM.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readFarmInput } from "../../src/cli/farm-input.js";
import { resolveFarm } from "../../src/ops/farm/resolve.js";
import { ISSUE_SPEC } from "../ops/farm/helpers.js";

const dir = mkdtempSync(join(tmpdir(), "farm-input-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const spec = write("rel.toml", ISSUE_SPEC);
const noEnv = {};

describe("readFarmInput", () => {
  it("sends the parsed spec, its file, the variables and the platform", () => {
    const input = readFarmInput(spec, { vars: ["release=3.2.0", "git_rev=4f2a9c1"] }, noEnv);
    expect(input.file).toBe(spec);
    expect(input.spec.name).toBe("rel-3-2");
    expect(input.vars).toEqual({ release: "3.2.0", git_rev: "4f2a9c1" });
    expect(input.platform).toBeNull();
    // What it sends is what farmd resolves.
    const farm = resolveFarm(JSON.parse(JSON.stringify(input)));
    expect(farm.members.map((m) => m.name)).toEqual([
      "rel-3-2-build-centos7",
      "rel-3-2-build-debian12",
      "rel-3-2-repo",
    ]);
  });

  it("--var-file files in order, then --var over them", () => {
    const a = write("a.ini", "[general]\nrelease = from-a\ngit_rev = from-a\nbranch = from-a\n");
    const b = write("b.ini", "git_rev = from-b\n");
    const input = readFarmInput(spec, { varFiles: [a, b], vars: ["release=cli"] }, noEnv);
    expect(input.vars).toEqual({ release: "cli", git_rev: "from-b", branch: "from-a" });
    // ... and all of them over the spec's [vars].
    const member = resolveFarm(input).members[0]!;
    expect(member.vars).toMatchObject({ branch: "from-a", sysbase: "centos-7" });
  });

  it("takes --platform, else FARM_PLATFORM; empty means all", () => {
    const p = (platform: string | undefined, env: Record<string, string>) =>
      readFarmInput(spec, { platform }, env).platform;
    expect(p("centos-7", { FARM_PLATFORM: "debian-12" })).toBe("centos-7");
    expect(p(undefined, { FARM_PLATFORM: "debian-12" })).toBe("debian-12");
    expect(p(undefined, { FARM_PLATFORM: "" })).toBeNull();
    expect(p("", { FARM_PLATFORM: "debian-12" })).toBeNull();
    expect(p(undefined, {})).toBeNull();
  });

  it("names the file, line and column of a TOML syntax error", () => {
    const bad = write("bad.toml", 'name = "x"\n[members.a\nsource = "g"\n');
    expect(() => readFarmInput(bad, {}, noEnv)).toThrow(
      `${bad} (line 2, column 11): not valid TOML`,
    );
  });

  it("refuses an unquoted TOML date, which JSON would turn into a string farmd never saw", () => {
    const dated = write("dated.toml", `${ISSUE_SPEC}\n[members.repo.vars]\nfrozen = 2026-12-02\n`);
    expect(() => readFarmInput(dated, {}, noEnv)).toThrow(
      `${dated}: members.repo.vars.frozen: is a TOML date, which no key of a spec takes`,
    );
  });

  it("refuses a missing spec with exit 64 and a missing var-file with exit 65", () => {
    const fail = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        return err as { message: string; exitCode: number };
      }
      throw new Error("expected a refusal");
    };
    const nospec = fail(() => readFarmInput(join(dir, "none.toml"), {}, noEnv));
    expect(nospec.message).toMatch(/none\.toml: cannot read the farm spec: ENOENT/);
    expect(nospec.exitCode).toBe(64);
    const novars = fail(() => readFarmInput(spec, { varFiles: [join(dir, "x.ini")] }, noEnv));
    expect(novars.message).toMatch(/^--var-file .*x\.ini: cannot read: ENOENT/);
    expect(novars.exitCode).toBe(65);
    const badVar = fail(() => readFarmInput(spec, { vars: ["novalue"] }, noEnv));
    expect(badVar.message).toBe("--var 'novalue' is not KEY=VALUE");
    const twice = fail(() => readFarmInput(spec, { vars: ["a=1", "a=2"] }, noEnv));
    expect(twice.message).toBe("--var a is given twice");
    // --var __proto__=x reaches farmd as a variable (not a prototype), which refuses its name.
    const proto = readFarmInput(spec, { vars: ["__proto__=x", "release=1", "git_rev=2"] }, noEnv);
    expect(Object.keys(proto.vars)).toEqual(["__proto__", "release", "git_rev"]);
    expect(() => resolveFarm(JSON.parse(JSON.stringify(proto)))).toThrow(
      "--var or --var-file: variable name '__proto__' is not an identifier",
    );
  });

  it("passes a hostile value on for farmd to refuse (newline given on the command line)", () => {
    const input = readFarmInput(spec, { vars: ["release=1\nrm -rf /", "git_rev=x"] }, noEnv);
    expect(() => resolveFarm(input)).toThrow(/variable release contains a control character/);
  });
});
