// The man pages are checked by the real formatters, as an admin's `man` would render them.
import { execa } from "execa";
import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";

const pages = readdirSync(new URL("../man", import.meta.url)).map(
  (f) => new URL(`../man/${f}`, import.meta.url).pathname,
);

describe("man pages", () => {
  it("exist for farmctl(1) and farmd.toml(5)", () => {
    expect(pages.map((p) => p.split("/").at(-1))).toEqual(
      expect.arrayContaining(["farmctl.1", "farmd.8", "farmd.toml.5"]),
    );
  });
  for (const page of pages) {
    it(`${page.split("/").at(-1)} passes mandoc -T lint and groff -ww`, async () => {
      const mandoc = await execa("mandoc", ["-T", "lint", "-W", "warning", page], {
        reject: false,
      });
      expect(mandoc.stdout + mandoc.stderr).toBe("");
      expect(mandoc.exitCode).toBe(0);
      const groff = await execa("groff", ["-man", "-ww", "-z", page], { reject: false });
      expect(groff.stderr).toBe("");
      expect(groff.exitCode).toBe(0);
    });
  }
});
