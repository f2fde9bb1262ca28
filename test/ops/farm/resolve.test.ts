import { describe, expect, it } from "vitest";
import { BadInput } from "../../../src/api/errors.js";
import { ISSUE_SPEC, RELEASE_VARS, refusal, resolve } from "./helpers.js";

const MINIMAL = 'name = "f"\n[members.a]\nsource = "gold"\n';

describe("resolveFarm: the issue's spec", () => {
  const farm = resolve(ISSUE_SPEC);

  it("keeps the name, the file and [run]", () => {
    expect(farm.name).toBe("rel-3-2");
    expect(farm.file).toBe("rel.toml");
    expect(farm.run).toEqual({ onError: "continue", wait: "ssh", waitTimeoutSec: 600 });
  });

  it("merges defaults, then the platform, then the member, in spec order", () => {
    expect(farm.members).toEqual([
      {
        key: "build-centos7",
        platform: "centos-7",
        name: "rel-3-2-build-centos7",
        source: "builder-centos7",
        group: "staging",
        memory: "4G",
        balloon: "1G",
        web: null,
        start: true,
        protect: false,
        vars: { branch: "release/3.2", ...RELEASE_VARS, sysbase: "centos-7" },
      },
      {
        key: "build-debian12",
        platform: "debian-12",
        name: "rel-3-2-build-debian12",
        source: "builder-debian12",
        group: "staging",
        memory: "6G",
        balloon: "1G",
        web: null,
        start: true,
        protect: false,
        vars: { branch: "release/3.2", ...RELEASE_VARS, sysbase: "debian-12" },
      },
      {
        key: "repo",
        platform: null,
        name: "rel-3-2-repo",
        source: "reprepro",
        group: "staging",
        memory: "4G",
        balloon: "1G",
        start: true,
        protect: true,
        vars: { branch: "release/3.2", ...RELEASE_VARS },
      },
    ]);
    // web = true is the default server name: left undefined, as CloneRequest.web.
    expect("web" in farm.members[2]!).toBe(false);
  });

  it("hashes members and run: the same spec the same hash, any change another", () => {
    expect(farm.specHash).toMatch(/^[0-9a-f]{64}$/);
    const reordered = ISSUE_SPEC.replace(/^(group = .*)\n(memory = .*)$/m, "$2\n$1");
    expect(reordered).not.toBe(ISSUE_SPEC);
    expect(resolve(reordered).specHash).toBe(farm.specHash);
    expect(resolve(ISSUE_SPEC.replace('memory = "6G"', 'memory = "8G"')).specHash).not.toBe(
      farm.specHash,
    );
    expect(resolve(ISSUE_SPEC.replace('"10m"', '"11m"')).specHash).not.toBe(farm.specHash);
    expect(resolve(ISSUE_SPEC, { vars: { ...RELEASE_VARS, git_rev: "5e0" } }).specHash).not.toBe(
      farm.specHash,
    );
    // The file name is for messages only.
    expect(resolve(ISSUE_SPEC, { file: "other.toml" }).specHash).toBe(farm.specHash);
  });
});

describe("resolveFarm: merging", () => {
  it("the member's keys win over its platform's, which win over [defaults]", () => {
    const farm = resolve(`
name = "f"
[defaults]
memory = "2G"
balloon = "1G"
group = "g1"
start = false
[platforms.p]
source = "gold-p"
memory = "3G"
group = "g2"
[members.a]
platform = "p"
memory = "5G"
[members.b]
platform = "p"
[members.c]
source = "other"
`);
    const [a, b, c] = farm.members;
    expect([a!.memory, a!.group, a!.source, a!.start]).toEqual(["5G", "g2", "gold-p", false]);
    expect([b!.memory, b!.group, b!.source]).toEqual(["3G", "g2", "gold-p"]);
    expect([c!.memory, c!.group, c!.source, c!.platform]).toEqual(["2G", "g1", "other", null]);
  });

  it("defaults [run] to continue, started, 10 minutes and web to the default name", () => {
    const farm = resolve(MINIMAL);
    expect(farm.run).toEqual({ onError: "continue", wait: "started", waitTimeoutSec: 600 });
    expect(farm.members[0]).toEqual({
      key: "a",
      platform: null,
      name: "f-a",
      source: "gold",
      start: true,
      protect: false,
      vars: RELEASE_VARS,
    });
  });

  it("takes web as false, true or a server name, and customize", () => {
    const farm = resolve(`name = "f"
[defaults]
source = "gold"
customize = false
[members.a]
web = "a.example.org"
[members.b]
web = false
[members.c]
web = true
customize = true`);
    expect(farm.members.map((m) => m.web)).toEqual(["a.example.org", null, undefined]);
    expect(farm.members.map((m) => m.customize)).toEqual([false, false, true]);
  });
});

describe("resolveFarm: variables", () => {
  const SPEC = `name = "f"
required_vars = ["release"]
[vars]
release = "spec"
branch = "spec"
colour = "spec"
[members.a]
source = "gold"
vars = { colour = "member" }
[members.b]
source = "gold"`;

  it("spec [vars], then --var-file/--var, then the member's", () => {
    const [a, b] = resolve(SPEC, { vars: { release: "cli", colour: "cli" } }).members;
    expect(a!.vars).toEqual({ release: "cli", branch: "spec", colour: "member" });
    expect(b!.vars).toEqual({ release: "cli", branch: "spec", colour: "cli" });
  });

  it("refuses missing required variables, listing all and how to give them", () => {
    const err = (() => {
      try {
        resolve(ISSUE_SPEC, { vars: {} });
      } catch (e) {
        return e as BadInput;
      }
    })();
    expect(err).toBeInstanceOf(BadInput);
    expect(err!.message).toBe("rel.toml: missing required variable(s): release, git_rev");
    expect(err!.hint).toContain("--var release=VALUE --var git_rev=VALUE");
    expect(err!.hint).toContain("--var-file");
    expect(err!.exitCode).toBe(65);
  });

  it("names the members that lack a required variable only some give", () => {
    const spec = `name = "f"
required_vars = ["sysbase"]
[defaults]
source = "gold"
[members.a]
vars = { sysbase = "centos-7" }
[members.b]
[members.c]`;
    expect(refusal(() => resolve(spec))).toBe(
      "rel.toml: missing required variable(s): sysbase (for b, c)",
    );
    expect(resolve(spec, { vars: { sysbase: "" } }).members[1]!.vars.sysbase).toBe("");
  });

  it("refuses injection in variables: newline, NUL, other control characters, bad names", () => {
    for (const bad of ["3.2\nrm -rf /", "3.2\0", "a\rb", "\u2028"])
      expect(refusal(() => resolve(MINIMAL, { vars: { release: bad } }))).toBe(
        "--var or --var-file: variable release contains a control character (newline, NUL, ...); give it as plain text on one line",
      );
    expect(refusal(() => resolve(MINIMAL, { vars: { "a b": "x" } }))).toMatch(
      /^--var or --var-file: variable name 'a b' is not an identifier/,
    );
    expect(
      refusal(() => resolve('name = "f"\n[vars]\nx = "a\\u0000b"\n[members.a]\nsource = "g"')),
    ).toBe(
      "rel.toml: vars.x: variable x contains a control character (newline, NUL, ...); give it as plain text on one line",
    );
    expect(
      refusal(() => resolve('name = "f"\n[members.a]\nsource = "g"\nvars = { y = "1\\n2" }')),
    ).toMatch(/^rel\.toml: members\.a\.vars\.y: variable y contains a control character/);
    expect(refusal(() => resolve(MINIMAL, { vars: { x: "a".repeat(1025) } }))).toMatch(
      /variable x is 1025 characters long; at most 1024/,
    );
  });

  it("refuses a member whose merged variables are more than a clone takes", () => {
    const many = (n: number, p: string) =>
      Array.from({ length: n }, (_, i) => `${p}${i} = "x"`).join("\n");
    const spec = `name = "f"\n[vars]\n${many(40, "s")}\n[members.a]\nsource = "g"\n[members.b]\nsource = "g"\n[members.b.vars]\n${many(30, "m")}`;
    expect(refusal(() => resolve(spec, { vars: {} }))).toBe(
      "rel.toml: members.b: the spec's, given and own vars: 70 variables given; at most 64; give fewer --var",
    );
  });

  it("keeps templates out of variables: a value is data, passed as written", () => {
    const farm = resolve(MINIMAL, { vars: { rev: "{{ 7 * 7 }}" } });
    expect(farm.members[0]!.vars.rev).toBe("{{ 7 * 7 }}");
  });
});
