import { describe, expect, it } from "vitest";
import { BadInput } from "../../../src/api/errors.js";
import * as shorewall from "../../../src/host/confedit/shorewall.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, fixture } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const RULES = fixture("etc/shorewall/rules");
const PARAMS = fixture("etc/shorewall/params");

// Shorewall 4 files of the seed's era end with a LAST LINE marker and have no sections.
const OLD_RULES = `#ACTION\tSOURCE\tDEST\tPROTO\tDEST PORT
DNAT\t\tnet\t\tloc:$VM_GALLIFREY_XIVO:22 tcp\t22005\t\t-\t$IP_FAILOVER
ACCEPT\tnet\t$FW\ttcp\t80,443
#LAST LINE -- ADD YOUR ENTRIES BEFORE THIS ONE -- DO NOT REMOVE
`;
const OLD_PARAMS = `VM_GALLIFREY_XIVO=10.10.60.5
#LAST LINE -- DO NOT REMOVE
`;

describe("shorewall rules and params", () => {
  it("renders the seed's DNAT rule and param", () => {
    expect(shorewall.renderRule(t, DEV)).toBe(
      "DNAT\t\tnet\t\tloc:$VM_GALLIFREY_DEV_XIVO:22\ttcp\t22006\t-\t$IP_FAILOVER\n",
    );
    expect(shorewall.renderParam(t, DEV)).toBe("VM_GALLIFREY_DEV_XIVO=10.10.60.6\n");
  });

  it.each([
    ["fixture", RULES],
    ["shorewall 4", OLD_RULES],
    ["no final newline", RULES.trimEnd()],
    ["no sections", "ACCEPT net $FW tcp 22\n"],
  ])("rules: add then remove gives back the same bytes (%s)", (_, text) => {
    const added = shorewall.addRule(text, DEV, shorewall.renderRule(t, DEV));
    expect(shorewall.findRule(added, DEV.fqdn)?.body).toBe(shorewall.renderRule(t, DEV));
    expect(shorewall.removeRule(added, DEV.fqdn)).toBe(text);
  });

  it.each([
    ["fixture", PARAMS],
    ["shorewall 4", OLD_PARAMS],
  ])("params: add then remove gives back the same bytes (%s)", (_, text) => {
    const added = shorewall.addParam(text, DEV, shorewall.renderParam(t, DEV));
    expect(shorewall.params(added).get("VM_GALLIFREY_DEV_XIVO")).toBe("10.10.60.6");
    expect(shorewall.removeParam(added, DEV.fqdn)).toBe(text);
  });

  it("appends at the end of the NEW section", () => {
    const added = shorewall.addRule(RULES, DEV, shorewall.renderRule(t, DEV));
    expect(added.startsWith(RULES)).toBe(true);
    expect(added.indexOf("?SECTION NEW")).toBeLessThan(added.indexOf("farmctl begin"));
  });

  it("goes before a trailing LAST LINE marker", () => {
    const rules = shorewall.addRule(OLD_RULES, DEV, shorewall.renderRule(t, DEV));
    expect(
      rules.endsWith(
        `# farmctl end ${DEV.fqdn}\n#LAST LINE -- ADD YOUR ENTRIES BEFORE THIS ONE -- DO NOT REMOVE\n`,
      ),
    ).toBe(true);
    const params = shorewall.addParam(OLD_PARAMS, DEV, shorewall.renderParam(t, DEV));
    expect(params).toBe(
      `VM_GALLIFREY_XIVO=10.10.60.5\n# farmctl begin ${DEV.fqdn}\nVM_GALLIFREY_DEV_XIVO=10.10.60.6\n# farmctl end ${DEV.fqdn}\n#LAST LINE -- DO NOT REMOVE\n`,
    );
  });

  it("ignores a LAST LINE marker with rules after it", () => {
    const text = "#LAST LINE\nACCEPT net $FW tcp 22\n";
    expect(shorewall.insertionPoint(text)).toBeUndefined();
    expect(shorewall.insertionPoint("x\n#LAST LINE\n\n# trailing note\n")).toBe(2);
  });

  it("refuses a rules file that ends in another section", () => {
    const text = "?SECTION ALL\n?SECTION ESTABLISHED\nACCEPT net $FW tcp 22\n";
    expect(() => shorewall.addRule(text, DEV, shorewall.renderRule(t, DEV))).toThrow(BadInput);
    expect(() => shorewall.addRule("SECTION NEW\n", DEV, "x")).not.toThrow();
  });

  it("sees hand-written and farmctl forwarded ports", () => {
    expect(shorewall.usedPorts(RULES)).toEqual([22005]);
    expect(shorewall.usedPorts(OLD_RULES)).toEqual([80, 443, 22005]);
    const added = shorewall.addRule(RULES, DEV, shorewall.renderRule(t, DEV));
    expect(shorewall.usedPorts(added)).toEqual([22005, 22006]);
  });

  it("reads ranges, continuations, key=value columns and ignores comments", () => {
    const text = `DNAT net loc:10.10.60.7:22 tcp 22007:22009
# DNAT net loc:10.10.60.8:22 tcp 22100
REDIRECT net 3128 tcp \\
   8080
DNAT net loc:10.10.60.9 ; proto=tcp, dport=22010
ACCEPT loc net tcp 25
ACCEPT net fw:10.10.60.1 tcp ssh,2222
`;
    expect(shorewall.usedPorts(text)).toEqual([2222, 8080, 22007, 22008, 22009, 22010]);
  });

  it("names the macros the host01 rules invoke, and reads shorewall's macro files", () => {
    expect(shorewall.macroNames(RULES)).toEqual(["Invalid", "DNS", "SSH", "Ping", "HTTP"]);
    // shorewall 5.2's macro.DNS and macro.Web, as the package ships them.
    const dns = "#ACTION\tSOURCE\tDEST\tPROTO\tDPORT\nPARAM\t-\t-\tudp\t53\nPARAM\t-\t-\ttcp\t53\n";
    expect(shorewall.macroFilePorts(dns)).toEqual([53]);
    const web = "#ACTION\tSOURCE\tDEST\tPROTO\tDPORT\nHTTP\nHTTPS\n";
    expect(shorewall.macroFilePorts(web)).toEqual([]);
    expect(shorewall.macroNames(web, true)).toEqual(["HTTP", "HTTPS"]);
  });

  it("counts a macro's ports for rules to $FW and DNATs, not for the host's own outgoing traffic", () => {
    const macros: Record<string, number[]> = { SSH: [22], HTTP: [80], DNS: [53], Ping: [] };
    const rules = shorewall.portRules(RULES, (m) => macros[m] ?? []);
    expect(rules.map((r) => [r.port, r.rule])).toEqual([
      [22, "SSH(ACCEPT)\tloc\t\t$FW"],
      [22, "SSH(ACCEPT)\tnet\t\t$FW"],
      [80, "HTTP(ACCEPT)\tnet\t\t$FW"],
      [53, "DNS(ACCEPT)\tloc\t\t$FW"],
      [22005, "DNAT\t\tnet\t\tloc:$VM_GALLIFREY_XIVO:22\ttcp\t22005\t-\t$IP_FAILOVER"],
    ]);
    expect(
      shorewall.usedPorts(
        "SSH/ACCEPT net $FW\nHTTP(DNAT) net loc:10.10.60.9\n",
        (m) => macros[m] ?? [],
      ),
    ).toEqual([22, 80]);
  });

  it("reads params, hand-written and farmctl's", () => {
    const p = shorewall.params(PARAMS);
    expect(p.get("IP_FAILOVER")).toBe("198.51.100.42");
    expect(p.get("VM_GALLIFREY_XIVO")).toBe("10.10.60.5");
    const q = shorewall.params(`A="1.2.3.4"\nexport B='x y'\nC=5 # note\n#D=6\n`);
    expect([...q]).toEqual([
      ["A", "1.2.3.4"],
      ["B", "x y"],
      ["C", "5"],
    ]);
  });
});
