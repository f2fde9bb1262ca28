// The README installs farmctl and farmd as symlinks to dist/: they must be executable as built and
// answer through the link (issue 8 items 13, 19).
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as {
  version: string;
  bin: Record<string, string>;
};
const bin = mkdtempSync(join(tmpdir(), "farm-bin-"));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
const config = join(bin, "farmd.toml");
writeFileSync(config, `socket = "${bin}/none.sock"\n`);

describe("installed through a symlink", () => {
  for (const [name, target] of Object.entries(pkg.bin)) {
    it(`${name} is 0755 and answers --version through a symlink`, async () => {
      expect(statSync(target).mode & 0o777).toBe(0o755);
      const link = join(bin, name);
      symlinkSync(resolve(target), link);
      // farmctl then asks farmd for its version: a socket nobody listens on keeps the answer known.
      const r = await execa(link, ["--version"], { reject: false, env: { FARMD_CONFIG: config } });
      expect(r.exitCode, r.stderr).toBe(0);
      const [first, ...rest] = r.stdout.trim().split("\n");
      if (name === "farmctl") {
        expect(first).toBe(`farmctl ${pkg.version} (API v1)`);
        expect(rest).toEqual([
          `farmd: farmd is not running (no answer on ${bin}/none.sock); start it: \`systemctl start farmd\`, or run \`farmd\` as root (see farmd(8))`,
        ]);
      } else expect(r.stdout.trim()).toBe(`${name} ${pkg.version}`);
    });
  }
});
