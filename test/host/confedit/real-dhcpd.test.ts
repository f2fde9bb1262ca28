// dhcpd -t for real on the seed-style dhcpd.conf, as edited by farmctl.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationFailed } from "../../../src/api/errors.js";
import { validateDhcpd } from "../../../src/host/confedit/checkers.js";
import * as dhcpd from "../../../src/host/confedit/dhcpd.js";
import { RealFiles } from "../../../src/host/files.js";
import { ExecaRunner } from "../../../src/host/runner.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, fixture, hasBinary, skipNote, tempDir } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const runner = new ExecaRunner();
let cleanup = () => {};
afterEach(() => cleanup());

function write(text: string): string {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const file = join(tmp.dir, "dhcpd.conf");
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!hasBinary("dhcpd"))(`dhcpd -t (real)${skipNote("dhcpd")}`, () => {
  it("accepts the fixture as the admin left it", async () => {
    await validateDhcpd(runner, write(fixture("etc/dhcp/dhcpd.conf")));
  });

  it("accepts dhcpd.conf with farmctl's host", async () => {
    const conf = dhcpd.addEntry(fixture("etc/dhcp/dhcpd.conf"), DEV, dhcpd.render(t, DEV));
    await validateDhcpd(runner, write(conf));
  });

  it("accepts it after a file without final newline", async () => {
    const conf = dhcpd.addEntry(
      fixture("etc/dhcp/dhcpd.conf").trimEnd(),
      DEV,
      dhcpd.render(t, DEV),
    );
    await validateDhcpd(runner, write(conf));
  });

  it.each([
    ["a bad MAC", { mac: "52:54:86:zz:3f:10" }, /line \d+: expecting numeric value/],
    ["a bad address", { ip: "10.10.60.300" }, /line \d+: 300 exceeds max \(255\)/],
  ])("refuses %s with dhcpd's message", async (_, change, message) => {
    // Bypass render()'s checks with a hand-made fragment, as a broken override template would.
    const e = { ...DEV, ...change };
    const host = `host ${e.fqdn} {\n\thardware ethernet ${e.mac};\n\tfixed-address ${e.ip};\n}\n`;
    const file = write(dhcpd.addEntry(fixture("etc/dhcp/dhcpd.conf"), DEV, host));
    const err = await validateDhcpd(runner, file).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ValidationFailed);
    const v = err as ValidationFailed;
    expect(v.hint).toMatch(message);
    expect(v.hint).not.toContain("If you think you have received");
    expect(v.details?.checker).toEqual(["dhcpd", "-t", "-4", "-cf", file]);
  });

  it("a refusal names dhcpd.conf, not the hidden temp file dhcpd read", async () => {
    const file = write(fixture("etc/dhcp/dhcpd.conf"));
    const bad = `host ${DEV.fqdn} {\n\thardware ethernet 52:54:86:zz:3f:10;\n}\n`;
    const files = new RealFiles(join(file, "..", "backups"));
    const err = await files
      .apply([{ path: file, content: dhcpd.addEntry(readFileSync(file, "utf8"), DEV, bad) }], (c) =>
        validateDhcpd(runner, c.get(file)!).then(() => {}),
      )
      .catch((x: unknown) => x);
    expect(err).toBeInstanceOf(ValidationFailed);
    const v = err as ValidationFailed;
    expect(v.message).toBe(`${file}: rejected by dhcpd -t -4 -cf ${file}`);
    expect(JSON.stringify(v.toJSON())).not.toContain(".farmctl-");
    expect(readFileSync(file, "utf8")).toBe(fixture("etc/dhcp/dhcpd.conf"));
  });
});
