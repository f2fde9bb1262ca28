import { describe, expect, it } from "vitest";
import { BadInput } from "../../../src/api/errors.js";
import * as dhcpd from "../../../src/host/confedit/dhcpd.js";
import {
  checkEntry,
  hostContext,
  isNetmask,
  isScopeName,
  isVars,
  type VmEntry,
} from "../../../src/host/confedit/entry.js";
import * as nginx from "../../../src/host/confedit/nginx.js";
import * as shorewall from "../../../src/host/confedit/shorewall.js";
import * as zone from "../../../src/host/confedit/zone.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");

// Each renderer with the fields it interpolates: every one must be re-checked.
const RENDERERS: [string, (e: VmEntry) => string, (keyof VmEntry)[]][] = [
  ["zone", (e) => zone.render(t, e), ["fqdn", "zoneName", "ip"]],
  ["dhcpd", (e) => dhcpd.render(t, e), ["fqdn", "mac", "ip", "netmask"]],
  [
    "rule",
    (e) => shorewall.renderRule(t, e),
    ["fqdn", "shorewallParam", "sshPort", "publicAddress"],
  ],
  ["param", (e) => shorewall.renderParam(t, e), ["fqdn", "shorewallParam", "ip"]],
  ["nginx", (e) => nginx.render(t, e), ["fqdn", "webName"]],
];

const NASTY = [
  "x\ny",
  "x;y",
  "x{",
  "x}",
  "x#y",
  'x"y',
  "x'y",
  "x y",
  "x\ty",
  "$(reboot)",
  "x`id`",
  "",
  "x\\",
  "x\r",
];

describe("entry checks", () => {
  it("accepts the seed's gallifrey-dev", () => {
    expect(() => checkEntry(DEV, Object.keys(DEV) as (keyof VmEntry)[])).not.toThrow();
  });

  describe.each(RENDERERS)("%s renderer", (_, render, fields) => {
    it("renders the seed's entry", () => {
      expect(render(DEV).length).toBeGreaterThan(0);
    });
    it.each(fields.flatMap((f) => NASTY.map((v) => [f, v] as const)))(
      "rejects %s = %j",
      (field, value) => {
        const bad = { ...DEV, [field]: field === "sshPort" ? Number.NaN : value };
        expect(() => render(bad)).toThrow(BadInput);
      },
    );
  });

  it.each([
    ["ip", "10.10.60.256"],
    ["ip", "010.10.60.6"],
    ["ip", "10.10.60"],
    ["mac", "52:54:86:B3:3F:10"],
    ["mac", "52:54:86:b3:3f"],
    ["mac", "52-54-86-b3-3f-10"],
    ["netmask", "255.0.255.0"],
    ["shorewallParam", "vm_gallifrey"],
    ["shorewallParam", "1VM"],
    ["publicAddress", "IP_FAILOVER"],
    ["publicAddress", "$IP FAILOVER"],
    ["publicAddress", "${IP_FAILOVER}"],
    ["webName", "gallifrey-dev.dachary.org."],
    ["webName", "-bad.dachary.org"],
    ["fqdn", "a..farm"],
    ["zoneName", "x".repeat(64)],
  ] as const)("rejects %s %j", (field, value) => {
    expect(() => checkEntry({ ...DEV, [field]: value }, [field])).toThrow(BadInput);
  });

  it.each([0, 65536, 22.5, "22006"])("rejects sshPort %j", (port) => {
    expect(() => checkEntry({ ...DEV, sshPort: port as number }, ["sshPort"])).toThrow(BadInput);
  });

  it("accepts an IPv4 public address", () => {
    expect(() =>
      checkEntry({ ...DEV, publicAddress: "198.51.100.42" }, ["publicAddress"]),
    ).not.toThrow();
  });

  it("knows netmasks", () => {
    expect(["255.255.255.0", "255.255.0.0", "0.0.0.0", "255.255.255.255"].every(isNetmask)).toBe(
      true,
    );
    expect(["255.255.255.1", "0.255.255.255"].some(isNetmask)).toBe(false);
  });

  it("names the field in the error", () => {
    expect(() => zone.render(t, { ...DEV, ip: "1.2.3.4\nx IN A 5.6.7.8" })).toThrow(/invalid ip/);
  });
});

describe("a template's vars, farm and member", () => {
  it("reaches every renderer, checked before it renders", () => {
    for (const [what, render] of RENDERERS) {
      const bad: Partial<VmEntry>[] = [
        { vars: { "bad-key": "x" } },
        { vars: { ok: "line\nbreak" } },
        { vars: { ok: "x".repeat(1025) } },
        { farm: "rel 3" },
        { member: "a;b" },
        { farm: "" },
      ];
      for (const b of bad) {
        expect(() => render({ ...DEV, ...b }), `${what} ${JSON.stringify(b)}`).toThrow(BadInput);
      }
      expect(() => render({ ...DEV, vars: { release: "3.2 ; }" }, farm: "rel-3-2" })).not.toThrow();
    }
  });

  it("is always defined in the context: {} and null for a VM of no farm", () => {
    expect(hostContext(DEV)).toMatchObject({ vars: {}, farm: null, member: null });
    const m = hostContext({ ...DEV, vars: { a: "1" }, farm: "rel-3-2", member: "dev" });
    expect(m).toMatchObject({ vars: { a: "1" }, farm: "rel-3-2", member: "dev", ip: DEV.ip });
  });

  it("tells plain names and variables from the rest", () => {
    expect([null, undefined, "rel-3-2", "build_centos7", "a.b"].map(isScopeName)).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(["", "-x", "a b", "a/b", "x".repeat(65), 3].map(isScopeName)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(isVars({ git_rev: "0a1b", empty: "" })).toBe(true);
    expect(isVars([])).toBe(false);
    expect(isVars({ n: 1 })).toBe(false);
    expect(isVars({ "1x": "a" })).toBe(false);
  });
});
