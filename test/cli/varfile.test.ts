// --var-file: ini files as release managers keep them (the shape of the project's seed 003).
import { describe, expect, it } from "vitest";
import { parseVarFile } from "../../src/cli/varfile.js";

/** A release manager's per-instance file, as in seed 003 (its keys, its [general] section). */
const SEED_INI = `[general]
port = 9006
debug = True
domain = test.dajool.com
django_prj_name = test_app
main_app = test_main_app
admin_title = My Very Nice Test App
var_path = /var/http/
srv_path = /srv/http/
package_name = django-my-test-app
`;

const refusal = (text: string) => {
  try {
    parseVarFile(text, "rel.ini");
  } catch (err) {
    return (err as Error & { hint?: string }).message;
  }
  throw new Error("expected a refusal");
};

describe("--var-file", () => {
  it("reads the seed's ini file: a section header, key = value, values with spaces", () => {
    expect(parseVarFile(SEED_INI, "rel.ini")).toEqual({
      port: "9006",
      debug: "True",
      domain: "test.dajool.com",
      django_prj_name: "test_app",
      main_app: "test_main_app",
      admin_title: "My Very Nice Test App",
      var_path: "/var/http/",
      srv_path: "/srv/http/",
      package_name: "django-my-test-app",
    });
  });

  it("takes key=value, comments, blank lines, CRLF, a BOM and one pair of quotes", () => {
    const text =
      '\uFEFF# release 3.2\r\n; set by hand\r\n\r\ngit_rev=4f2a9c1\r\n  release = "3.2.0"  \r\ntag = \'v3.2 final\'\r\nnote = "half\r\nempty =\r\nhash = a#b;c\r\n';
    expect(parseVarFile(text, "rel.ini")).toEqual({
      git_rev: "4f2a9c1",
      release: "3.2.0",
      tag: "v3.2 final",
      note: '"half',
      empty: "",
      hash: "a#b;c",
    });
  });

  it("merges sections into one set and refuses a key given twice, naming both lines", () => {
    expect(parseVarFile("[a]\nx = 1\n[b]\ny = 2\n", "f")).toEqual({ x: "1", y: "2" });
    expect(refusal("[a]\nx = 1\n[b]\nx = 2\n")).toBe(
      "rel.ini line 4: x is given again (first on line 2)",
    );
  });

  it("refuses with the line number: no '=', a bad name, a control character", () => {
    expect(refusal("x = 1\njust words\n")).toBe("rel.ini line 2: 'just words' is not KEY = VALUE");
    expect(refusal("\n\ngit-rev = 1\n")).toBe("rel.ini line 3: 'git-rev' is not a variable name");
    expect(refusal("= 1\n")).toBe("rel.ini line 1: '' is not a variable name");
    expect(refusal("x = a\0b\n")).toBe(
      "rel.ini line 1: the value of x contains a control character",
    );
    expect(refusal("x = a\rb\n")).toBe(
      "rel.ini line 1: the value of x contains a control character",
    );
    expect(refusal("[unclosed\n")).toBe("rel.ini line 1: '[unclosed' is not KEY = VALUE");
  });

  it("refuses __proto__, which a parsed object would drop without a word", () => {
    expect(refusal("x = 1\n__proto__ = x\n")).toBe(
      "rel.ini line 2: '__proto__' is not a variable name",
    );
  });
});
