// The README installs farmctl and farmd as symlinks to dist/: they must be executable as built and
// answer through the link (issue 8 items 13, 19).
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  version: string;
  bin: Record<string, string>;
};
const bin = mkdtempSync(join(tmpdir(), "farm-bin-"));
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe("installed through a symlink", () => {
  for (const [name, target] of Object.entries(pkg.bin)) {
    it(`${name} is 0755 and answers --version through a symlink`, async () => {
      expect(statSync(target).mode & 0o777).toBe(0o755);
      const link = join(bin, name);
      symlinkSync(resolve(target), link);
      const r = await execa(link, ["--version"], { reject: false });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(`${name} ${pkg.version}`);
    });
  }
});
