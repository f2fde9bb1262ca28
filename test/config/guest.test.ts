// [guest] in farmd.toml and a clone's --var: every value that reaches a guest file is checked.
import { describe, expect, it } from "vitest";
import { ConfigError, type FarmError } from "../../src/api/errors.js";
import { parseConfig } from "../../src/config/load.js";
import { guestPathProblem, parseMode, parseOwner } from "../../src/config/guest.js";
import { checkVars } from "../../src/ops/guest/vars.js";

const refusal = (toml: string) => {
  try {
    parseConfig(toml, "farmd.toml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error("accepted");
};

describe("[guest]", () => {
  it("defaults to all five operations and no files", () => {
    expect(parseConfig("", "f").guest).toMatchObject({
      customize: ["hostname", "machine-id", "ssh-host-keys", "net-state", "files"],
      files: {},
    });
  });

  it("refuses an unknown operation, naming the valid ones, and one named twice", () => {
    expect(refusal('[guest]\ncustomize = ["hostnam"]')).toContain(
      "guest.customize.0: must be one of hostname, machine-id, ssh-host-keys, net-state, files",
    );
    expect(refusal('[guest]\ncustomize = ["files", "files"]')).toContain(
      "must not name an operation twice",
    );
  });

  it("runs one libguestfs session at a time by default, and takes 1 to 16", () => {
    expect(parseConfig("", "f").guest.parallel).toBe(1);
    expect(parseConfig("[guest]\nparallel = 16", "f").guest.parallel).toBe(16);
    for (const bad of ["0", "17", "1.5", '"2"'])
      expect(refusal(`[guest]\nparallel = ${bad}`)).toContain("guest.parallel");
  });

  it("takes a file with its defaults, and refuses bad paths, modes, owners and templates", () => {
    const ok = parseConfig('[guest.files."/etc/pf/pf.conf"]\ntemplate = "pf.njk"', "f");
    expect(ok.guest.files).toEqual({
      "/etc/pf/pf.conf": { template: "pf.njk", mode: "0644", owner: "0:0" },
    });
    const refusals: [string, string][] = [
      [
        '[guest.files."/etc/../shadow"]\ntemplate = "a.njk"',
        "guest.files./etc/../shadow: guest path must not contain '.' or '..' segments",
      ],
      ['[guest.files."etc/x"]\ntemplate = "a.njk"', "must be an absolute path"],
      ['[guest.files."/etc/x"]\ntemplate = "../../etc/passwd"', "must be a template file name"],
      ['[guest.files."/etc/x"]\ntemplate = "a.njk"\nmode = "4755"', "no setuid/setgid"],
      [
        '[guest.files."/etc/x"]\ntemplate = "a.njk"\nowner = "www-data"',
        'must be numeric uid:gid like "0:0"',
      ],
      ['[guest.files."/etc/x"]\ntemplate = "a.njk"\ncolour = "red"', "unknown key(s) colour"],
    ];
    for (const [toml, message] of refusals) expect(refusal(toml)).toContain(message);
  });

  it("guest paths: a conservative charset, nothing relative, hidden or controlling", () => {
    expect(guestPathProblem("/etc/packaging-farm/packaging-farm.conf")).toBeNull();
    expect(guestPathProblem("/home/pf/.ssh/authorized_keys")).toBeNull();
    for (const bad of [
      "/etc/./x",
      "/etc//x",
      "/etc/x/",
      "/etc/x\ny",
      "/etc/-rf",
      "/etc/a b",
      "/etc/$(id)",
      "/",
    ])
      expect(guestPathProblem(bad), bad).not.toBeNull();
  });

  it("modes and owners", () => {
    expect(parseMode("0644")).toBe(0o644);
    expect(parseMode("755")).toBe(0o755);
    expect(parseMode("1777")).toBe(0o1777);
    for (const bad of ["2755", "0888", "rw-r--r--", "", "06440"])
      expect(parseMode(bad), bad).toBeNull();
    expect(parseOwner("root:root")).toEqual({ uid: 0, gid: 0 });
    expect(parseOwner("1000:4")).toEqual({ uid: 1000, gid: 4 });
    for (const bad of ["1000", "-1:0", "0:0:0", "root:adm", "4294967295:0"])
      expect(parseOwner(bad), bad).toBeNull();
  });
});

describe("--var", () => {
  const refused = (vars: Record<string, unknown>) => {
    try {
      checkVars(vars);
    } catch (e) {
      expect((e as FarmError).code).toBe("bad_input");
      return e as FarmError;
    }
    throw new Error("accepted");
  };

  it("takes identifiers with printable values, empty ones too", () => {
    expect(() => checkVars({ git_revision: "1.2-rc1", _x: "", A9: "a b/c:d" })).not.toThrow();
  });

  it("refuses a name that is not an identifier, control characters, long values, too many", () => {
    const name = refused({ "git-revision": "x" });
    expect(name.message).toBe("variable name 'git-revision' is not an identifier");
    expect(name.details).toEqual({ field: "request.vars.git-revision" });
    expect(refused({ "9x": "x" }).exitCode).toBe(65);
    expect(refused({ x: "a\nGIT_REVISION=evil" }).message).toContain("control character");
    expect(refused({ x: "a\u2028b" }).message).toContain("control character");
    expect(refused({ x: "a".repeat(1025) }).message).toContain("at most 1024");
    expect(refused({ x: 1 }).message).toBe("variable x must be a string");
    const many = Object.fromEntries([...Array(65).keys()].map((i) => [`v${i}`, "x"]));
    expect(refused(many).message).toBe("65 variables given; at most 64");
  });
});
