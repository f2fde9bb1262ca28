// Gives the test run a private TMPDIR and fails the run if a test leaves anything in it
// (issue 8 item 18): a test removes what it makes.
import { chmodSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup() {
  const dir = mkdtempSync(join(tmpdir(), "farm-tests-"));
  chmodSync(dir, 0o1777); // as /tmp: tests run some commands as another user (permissions.test.ts)
  const outer = process.env.TMPDIR;
  process.env.TMPDIR = dir; // workers start after this and inherit it
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  return () => {
    const left = readdirSync(dir);
    cleanup();
    if (outer === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outer;
    if (!left.length) return;
    process.exitCode = 1; // vitest reports a teardown error but would still exit 0
    throw new Error(`tests left these in TMPDIR: ${left.join(", ")}`);
  };
}
