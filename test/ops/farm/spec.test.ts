// Every refusal of a spec names the file, the key path and what a good value looks like.
import { describe, expect, it } from "vitest";
import { refusal, resolve } from "./helpers.js";

const ok = 'name = "f"\n[members.a]\nsource = "gold"\n';
const member = (lines: string) => `name = "f"\n[members.a]\nsource = "gold"\n${lines}\n`;

describe("farm spec validation", () => {
  const cases: [string, string, string | RegExp][] = [
    [
      "no name",
      '[members.a]\nsource = "g"',
      'rel.toml: name: required: give the farm\'s name like "rel-3-2"',
    ],
    [
      "a bad name",
      'name = "Rel_3"\n[members.a]\nsource = "g"',
      /^rel\.toml: name: the farm's name 'Rel_3' is not a valid name: it has uppercase letters; use lowercase/,
    ],
    [
      "no member",
      'name = "f"',
      "rel.toml: members: required: add at least one [members.<key>] table",
    ],
    [
      "an empty members table",
      'name = "f"\n[members]',
      "rel.toml: members: no member; add at least one [members.<key>] table",
    ],
    [
      "an unknown top-level key",
      `required_var = ["x"]\n${ok}`,
      "rel.toml: (top level): unknown key(s) required_var (did you mean required_vars?)",
    ],
    [
      "an unknown member key",
      member('memroy = "4G"'),
      "rel.toml: members.a: unknown key(s) memroy (did you mean memory?)",
    ],
    [
      "an unknown platform key",
      `${ok}[platforms.p]\nsorce = "g"`,
      "rel.toml: platforms.p: unknown key(s) sorce (did you mean source?)",
    ],
    [
      "an unknown [run] key",
      `${ok}[run]\nwait_time = "1m"`,
      "rel.toml: run: unknown key(s) wait_time (did you mean wait_timeout?)",
    ],
    [
      "a bad size",
      member('memory = "4 gigs"'),
      'rel.toml: members.a.memory: must be a positive size like "4G" (whole MiB: M, G or T)',
    ],
    [
      "a size as a number",
      member("memory = 4"),
      /^rel\.toml: members\.a\.memory: must be a positive size like "4G".*written as a string$/,
    ],
    [
      "a size below a MiB",
      `${ok}[defaults]\nballoon = "100K"`,
      /^rel\.toml: defaults\.balloon: must be a positive size like "1G" \(whole MiB/,
    ],
    [
      "a bad on_error",
      `${ok}[run]\non_error = "retry"`,
      'rel.toml: run.on_error: must be "continue", "stop" or "atomic"',
    ],
    ["a bad wait", `${ok}[run]\nwait = "ping"`, 'rel.toml: run.wait: must be "started" or "ssh"'],
    [
      "a bad wait_timeout",
      `${ok}[run]\nwait_timeout = "ten minutes"`,
      /^rel\.toml: run\.wait_timeout: must be whole seconds like "10m"/,
    ],
    [
      "a wait_timeout too long",
      `${ok}[run]\nwait_timeout = "7h"`,
      /^rel\.toml: run\.wait_timeout: .*at most 21600 s$/,
    ],
    [
      "a bad source",
      'name = "f"\n[members.a]\nsource = "gold.vm.farm"',
      /^rel\.toml: members\.a\.source: .*contains a dot/,
    ],
    [
      "a bad group",
      `${ok}[defaults]\ngroup = "-x"`,
      /^rel\.toml: defaults\.group: a group name '-x' is not a valid name/,
    ],
    [
      "a bad web name",
      member('web = "nodots"'),
      "rel.toml: members.a.web: web name 'nodots' is not a fully qualified host name; give web like \"repo.example.org\"",
    ],
    [
      "web as a number",
      member("web = 1"),
      /^rel\.toml: members\.a\.web: must be false \(no nginx site\), true/,
    ],
    [
      "start as a string",
      member('start = "yes"'),
      /^rel\.toml: members\.a\.start: must be true or false/,
    ],
    [
      "protect outside a member",
      `${ok}[defaults]\nprotect = true`,
      "rel.toml: defaults: unknown key(s) protect",
    ],
    [
      "a var as a number",
      `${ok}[vars]\nrelease = 3.2`,
      'rel.toml: vars.release: must be a string; quote numbers and booleans, like "3.2"',
    ],
    [
      "a bad var name",
      `${ok}[vars]\n"git-rev" = "x"`,
      /^rel\.toml: vars\.git-rev: variable name 'git-rev' is not an identifier/,
    ],
    [
      "a bad required var",
      'name = "f"\nrequired_vars = ["a b"]\n[members.a]\nsource = "g"',
      /^rel\.toml: required_vars\.0: variable name 'a b' is not an identifier/,
    ],
    [
      "required_vars not a list",
      'name = "f"\nrequired_vars = "x"\n[members.a]\nsource = "g"',
      'rel.toml: required_vars: must be a list of variable names, like ["release", "git_rev"]',
    ],
    [
      "a bad member key",
      'name = "f"\n[members.Repo]\nsource = "g"',
      /^rel\.toml: members\.Repo: member key 'Repo' is not a valid name: it has uppercase letters/,
    ],
    [
      "a bad platform key",
      `${ok}[platforms.centos_7]\nsource = "g"`,
      /^rel\.toml: platforms\.centos_7: platform 'centos_7' is not a valid name/,
    ],
    [
      "an undefined platform",
      `${ok}[platforms.centos-7]\nsource = "g"\n[members.b]\nplatform = "centos7"`,
      "rel.toml: members.b.platform: 'centos7' is not a platform of this farm (did you mean centos-7?); add [platforms.centos7] or use one defined: centos-7",
    ],
    [
      "no source",
      'name = "f"\n[platforms.p]\nmemory = "2G"\n[members.a]\nplatform = "p"',
      "rel.toml: members.a: no source: set source here, in [platforms.p] or in [defaults]",
    ],
    [
      "a VM name too long",
      `name = "${"f".repeat(40)}"\n[members.${"m".repeat(30)}]\nsource = "g"`,
      /^rel\.toml: members\.m+: VM name <farm>-<member> 'f+-m+' is 71 characters long, more than 63; .*or set name = "\.\.\." in \[members\.m+\]$/,
    ],
    [
      "two members with one VM name",
      `${ok}[members.b]\nsource = "g"\nname = "f-a"`,
      "rel.toml: members.b: VM name 'f-a' is also members.a's; give one a different name",
    ],
    [
      "members not tables",
      'name = "f"\nmembers = 3',
      "rel.toml: members: must be a table: one [members.<key>] a member",
    ],
    [
      "a member not a table",
      'name = "f"\n[members]\na = 1',
      "rel.toml: members.a: must be a table: [members.<key>] with clone options, platform, name, vars, protect",
    ],
    [
      "[run] not a table",
      `run = 1\n${ok}`,
      "rel.toml: run: must be a table: [run] with on_error, wait, wait_timeout",
    ],
    [
      "platforms as a list",
      `platforms = []\n${ok}`,
      "rel.toml: platforms: must be a table: one [platforms.<name>] a platform",
    ],
    [
      "vars not a table",
      `vars = "x"\n${ok}`,
      'rel.toml: vars: must be a table of strings, like { sysbase = "centos-7" }',
    ],
    [
      "a platform that is not a name",
      member('platform = "Centos 7"'),
      /^rel\.toml: members\.a\.platform: the platform 'Centos 7' is not a valid name/,
    ],
    [
      "a member named __proto__",
      `${ok}[members.__proto__]\nsource = "g"`,
      "rel.toml: members.__proto__: '__proto__' is reserved; rename it",
    ],
    [
      "a var named __proto__",
      `${ok}[vars]\n__proto__ = "x"`,
      "rel.toml: vars.__proto__: '__proto__' is reserved; rename it",
    ],
    [
      "a balloon above memory",
      member('memory = "1G"\nballoon = "2G"'),
      "rel.toml: members.a: balloon 2G is above memory 1G; lower balloon or raise memory",
    ],
  ];
  for (const [what, toml, message] of cases)
    it(`refuses ${what}, naming the file and the key`, () => {
      const got = refusal(() => resolve(toml));
      if (typeof message === "string") expect(got).toBe(message);
      else expect(got).toMatch(message);
    });

  it("reports every problem at once, one line each", () => {
    const got = refusal(() =>
      resolve('name = "f"\n[members.a]\nsource = "g"\nmemory = "x"\nweb = 1\ncolour = 2'),
    );
    expect(got.split("\n")).toHaveLength(3);
    for (const line of got.split("\n"))
      expect(line).toMatch(/^rel\.toml: members\.a(\.memory|\.web)?: /);
  });

  it("refuses a --platform the spec does not define", () => {
    const spec = `${ok}[platforms.centos-7]\nsource = "g"`;
    expect(refusal(() => resolve(spec, { platform: "centos7" }))).toBe(
      "rel.toml: --platform 'centos7' is not a platform of this farm (did you mean centos-7?); defined: centos-7 (empty: all)",
    );
    expect(resolve(spec, { platform: "centos-7" }).members).toHaveLength(1);
    expect(refusal(() => resolve(spec, { platform: "centos-7\nx" }))).toBe(
      "rel.toml: --platform: must be a platform's name; defined: centos-7 (empty: all)",
    );
  });

  it("refuses a spec that is not a table, and never uses a control character of the file name", () => {
    expect(refusal(() => resolve(ok, { spec: [] as never }))).toMatch(
      /^rel\.toml: \(top level\): /,
    );
    expect(refusal(() => resolve(ok, { spec: {}, file: "a\nb" }))).toMatch(
      /^\(farm spec\): name: /,
    );
  });
});
