import { describe, expect, it } from "vitest";
import * as dhcpd from "../../../src/host/confedit/dhcpd.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, fixture } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const CONF = fixture("etc/dhcp/dhcpd.conf");

// The seed's own style: fixed-address given as a name, host indented by hand.
const SEED = `subnet 10.10.60.0 netmask 255.255.255.0 {
  option routers 10.10.60.1;
  range 10.10.60.200 10.10.60.250;
}
host gallifrey.xivo.vm.farm {
        hardware ethernet 52:54:2B:9E:41:7;
        fixed-address gallifrey.xivo.vm.farm;
        option subnet-mask 255.255.255.0;
    }
# host old.xivo.vm.farm { hardware ethernet 52:54:00:00:00:01; fixed-address 10.10.60.9; }
host "quoted.xivo.vm.farm" { option host-name "host x"; fixed-address 10.10.60.11, 10.10.60.12; }
`;

describe("dhcpd.conf", () => {
  it("renders the seed's host with the IP as fixed-address", () => {
    expect(dhcpd.render(t, DEV)).toBe(
      "host gallifrey-dev.xivo.vm.farm {\n\thardware ethernet 52:54:86:b3:3f:10;\n" +
        "\tfixed-address 10.10.60.6;\n\toption subnet-mask 255.255.255.0;\n}\n",
    );
  });

  it.each([
    ["fixture", CONF],
    ["seed style", SEED],
    ["no final newline", SEED.trimEnd()],
  ])("add then remove gives back the same bytes (%s)", (_, text) => {
    const added = dhcpd.addEntry(text, DEV, dhcpd.render(t, DEV));
    expect(added.startsWith(text)).toBe(true);
    expect(dhcpd.findEntry(added, DEV.fqdn)?.body).toBe(dhcpd.render(t, DEV));
    expect(added).toMatch(/# farmctl begin gallifrey-dev\.xivo\.vm\.farm\nhost /);
    expect(dhcpd.removeEntry(added, DEV.fqdn)).toBe(text);
  });

  it("sees the fixture's hand-written host and gateway", () => {
    expect(dhcpd.hostNames(CONF)).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(dhcpd.usedMacs(CONF)).toEqual(["52:54:2b:9e:41:07"]);
    expect(dhcpd.usedAddresses(CONF).sort()).toEqual(["10.10.60.1", "10.10.60.5"]);
  });

  it("reads seed-style hosts, resolving names through the zone", () => {
    expect(dhcpd.hostNames(SEED)).toEqual(["gallifrey.xivo.vm.farm", "quoted.xivo.vm.farm"]);
    expect(dhcpd.usedMacs(SEED)).toEqual(["52:54:2b:9e:41:07"]);
    expect(dhcpd.usedAddresses(SEED).sort()).toEqual(["10.10.60.1", "10.10.60.11", "10.10.60.12"]);
    const zone = new Map([["gallifrey.xivo.vm.farm", ["10.10.60.5"]]]);
    expect(dhcpd.usedAddresses(SEED, (n) => zone.get(n) ?? [])).toContain("10.10.60.5");
  });

  it("knows the dynamic pools", () => {
    expect(dhcpd.ranges(SEED)).toEqual([{ first: "10.10.60.200", last: "10.10.60.250" }]);
    expect(dhcpd.inRanges(SEED, "10.10.60.201")).toBe(true);
    expect(dhcpd.inRanges(SEED, "10.10.60.6")).toBe(false);
    expect(dhcpd.ranges(CONF)).toEqual([]);
  });

  it("sees farmctl's own hosts too", () => {
    const added = dhcpd.addEntry(CONF, DEV, dhcpd.render(t, DEV));
    expect(dhcpd.hostNames(added)).toContain(DEV.fqdn);
    expect(dhcpd.usedMacs(added)).toContain(DEV.mac);
    expect(dhcpd.usedAddresses(added)).toContain(DEV.ip);
  });
});
