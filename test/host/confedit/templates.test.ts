import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/api/errors.js";
import { BUILTIN_DIR, Templates } from "../../../src/host/templates.js";
import { tempDir } from "./helpers.js";

let cleanup = () => {};
afterEach(() => cleanup());

describe("Templates", () => {
  it("finds the built-in templates from the source tree", () => {
    expect(BUILTIN_DIR.endsWith("/templates/")).toBe(true);
    const t = new Templates("/nonexistent/farmd-templates");
    expect(t.render("shorewall-param.njk", { shorewallParam: "VM_X", ip: "10.0.0.1" })).toBe(
      "VM_X=10.0.0.1\n",
    );
  });

  it("prefers the admin's override of the same name", () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    mkdirSync(join(tmp.dir, "t"));
    writeFileSync(join(tmp.dir, "t", "shorewall-param.njk"), "{{ shorewallParam }}='{{ ip }}'\n");
    const t = new Templates(join(tmp.dir, "t"));
    expect(t.render("shorewall-param.njk", { shorewallParam: "VM_X", ip: "10.0.0.1" })).toBe(
      "VM_X='10.0.0.1'\n",
    );
    // the others still come from the built-in dir
    expect(t.render("zone-record.njk", { zoneName: "a.xivo.vm", ip: "10.0.0.1" })).toBe(
      "a.xivo.vm\tIN\tA\t10.0.0.1\n",
    );
  });

  it("refuses an undefined variable and a missing template as config errors", () => {
    const t = new Templates("/nonexistent/farmd-templates");
    expect(() => t.render("zone-record.njk", { zoneName: "a" })).toThrow(ConfigError);
    expect(() => t.render("nope.njk", {})).toThrow(ConfigError);
  });

  it("does not HTML-escape", () => {
    const t = new Templates("/nonexistent/farmd-templates");
    const out = t.render("shorewall-rule.njk", {
      shorewallParam: "VM_X",
      sshPort: 22006,
      publicAddress: "$IP_FAILOVER",
    });
    expect(out).toBe("DNAT\t\tnet\t\tloc:$VM_X:22\ttcp\t22006\t-\t$IP_FAILOVER\n");
  });
});
