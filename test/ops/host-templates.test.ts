// The host's fragments rendered with a VM's vars, farm and member: which families a change of
// variables rewrites (an update in place), with the built-in templates and an admin's override.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Templates } from "../../src/host/templates.js";
import { changedFamilies, hostFragments } from "../../src/ops/clone/host-templates.js";
import { DEV } from "../host/confedit/helpers.js";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

const member = { ...DEV, vars: { release: "3.2.0" }, farm: "rel-3-2", member: "dev" };

describe("host fragments", () => {
  it("renders each family with the built-in templates; the variables change none of them", () => {
    const t = new Templates("/nonexistent/farmd-templates");
    const f = hostFragments(t, member);
    expect(f.dns).toBe(`${DEV.zoneName}\tIN\tA\t${DEV.ip}\n`);
    expect(f.dhcp).toContain(`hardware ethernet ${DEV.mac};`);
    expect(f.firewall).toContain(`${DEV.shorewallParam}=${DEV.ip}`);
    expect(f.proxy).toContain(`server_name ${DEV.webName};`);
    expect(hostFragments(t, { ...member, webName: undefined }).proxy).toBe("");
    const next = { ...member, vars: { release: "3.2.1" } };
    expect(changedFamilies(t, member, next)).toEqual([]);
  });

  it("names the families whose override uses the variable that changed", () => {
    dir = mkdtempSync(join(tmpdir(), "farm-tpl-"));
    writeFileSync(
      join(dir, "nginx-site.njk"),
      "server {\n listen {{ listen }};\n server_name {{ webName }};\n # release {{ vars.release }}\n}\n",
    );
    const t = new Templates(dir);
    expect(hostFragments(t, member).proxy).toContain("# release 3.2.0\n");
    const next = { ...member, vars: { release: "3.2.1" } };
    expect(changedFamilies(t, member, next)).toEqual(["proxy"]);
    expect(changedFamilies(t, member, { ...member, vars: { ...member.vars, x: "1" } })).toEqual([]);
    expect(() => hostFragments(t, { ...member, vars: {} })).toThrow(
      "template nginx-site.njk uses vars.release, which this clone was not given",
    );
  });
});
