// The man pages are checked by the real formatters, as an admin's `man` would render them.
import { execa } from "execa";
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { farmSpecSchema, memberSchema, runSchema } from "../src/ops/farm/spec.js";

const pages = readdirSync(new URL("../man", import.meta.url)).map(
  (f) => new URL(`../man/${f}`, import.meta.url).pathname,
);

describe("man pages", () => {
  it("exist for farmctl(1) and farmd.toml(5)", () => {
    expect(pages.map((p) => p.split("/").at(-1))).toEqual(
      expect.arrayContaining(["farmctl.1", "farmd.8", "farmd.toml.5", "farmctl-farm.5"]),
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

  it("farmctl-farm(5) describes every key a farm spec takes", () => {
    const page = readFileSync(new URL("../man/farmctl-farm.5", import.meta.url), "utf8");
    const keys = [farmSpecSchema, runSchema, memberSchema].flatMap((s) => Object.keys(s.shape));
    expect(keys).toEqual(expect.arrayContaining(["required_vars", "wait_timeout", "balloon"]));
    for (const key of keys) expect(page).toMatch(new RegExp(`^\\.(B|SH) \\[?${key}\\b`, "m"));
  });
});
