// --var-file: the ini files release managers keep their per-instance variables in, such as
//   [general]
//   port = 9006
//   domain = test.example.org
// Sections only group lines: every key lands in one flat set, so a key given twice (in any
// section) is refused rather than silently picking one. Keys keep their case; values are taken
// as written (no inline comments, no escapes), one pair of matching quotes removed.
import { readFileSync } from "node:fs";
import { BadInput } from "../api/errors.js";
import { CONTROL_CHAR, VAR_NAME } from "../api/routes.js";

const SECTION = /^\[[^\]]*\]$/;

export function parseVarFile(text: string, file: string): Record<string, string> {
  const vars = new Map<string, { value: string; line: number }>();
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, i) => {
    const line = i + 1;
    const refuse = (problem: string, fix: string) =>
      new BadInput(`${file} line ${line}: ${problem}`, fix, { file, line });
    const s = raw.replace(/\r$/, "").trim();
    if (s === "" || s.startsWith("#") || s.startsWith(";") || SECTION.test(s)) return;
    const eq = s.indexOf("=");
    if (eq < 0)
      throw refuse(
        `'${s.slice(0, 80)}' is not KEY = VALUE`,
        "write one variable a line, like git_rev = 4f2a9c1 ('#' or ';' starts a comment)",
      );
    const key = s.slice(0, eq).trim();
    if (!VAR_NAME.test(key))
      throw refuse(
        `'${key.slice(0, 80)}' is not a variable name`,
        "use letters, digits and '_' (not starting with a digit, at most 64, not __proto__), like git_rev",
      );
    const value = unquote(s.slice(eq + 1).trim());
    if (CONTROL_CHAR.test(value))
      throw refuse(`the value of ${key} contains a control character`, "give it as plain text");
    const first = vars.get(key);
    if (first)
      throw refuse(`${key} is given again (first on line ${first.line})`, "keep one of the two");
    vars.set(key, { value, line });
  });
  return Object.fromEntries([...vars].map(([k, v]) => [k, v.value]));
}

/** "x" or 'x' → x; anything else as it is. */
function unquote(v: string): string {
  const q = v[0];
  return v.length >= 2 && (q === '"' || q === "'") && v.endsWith(q) ? v.slice(1, -1) : v;
}

export function readVarFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new BadInput(
      `--var-file ${file}: cannot read: ${(err as Error).message}`,
      "check the path given with --var-file",
    );
  }
  return parseVarFile(text, file);
}
