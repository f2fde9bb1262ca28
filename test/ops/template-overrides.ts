// An admin's templates_dir for a test: the override files in a temporary directory, and a harness
// whose farmd renders with them; both are removed after the test, pass or fail.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach } from "vitest";
import { harness, type Harness } from "./clone-harness.js";

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A directory holding `files` (path under it → text), gone after the test. */
export function overridesDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "farm-tpl-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** A harness over an override dir holding `files`; the harness goes before its dir. */
export function withOverrides(files: Record<string, string>): Harness {
  const h = harness("", { templatesDir: overridesDir(files) });
  cleanups.unshift(() => h.cleanup());
  return h;
}
