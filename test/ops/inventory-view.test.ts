// list and show over host01: farmctl's VMs from the inventory, hand-made ones learned from the host.
import { afterEach, describe, expect, it } from "vitest";
import { listVms, showVm } from "../../src/ops/inventory/view.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

describe("farmctl list", () => {
  it("shows the hand-made source, learned from Ganeti and the files, marked as such", async () => {
    h = harness();
    expect(await listVms(h.deps())).toEqual([
      {
        name: "gallifrey",
        group: "xivo",
        instance: "gallifrey.xivo.vm.farm",
        state: "running",
        ip: "10.10.60.5",
        mac: "52:54:2b:9e:41:07",
        sshPort: 22005,
        webName: "gallifrey.dachary.org",
        memoryBytes: 4 * 2 ** 30,
        balloonBytes: null,
        lv: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
        diskBytes: 2 ** 30,
        source: null,
        created: null,
        origin: "hand-made",
        hostname: null,
        machineId: null,
        farm: null,
        member: null,
        owner: null,
        expiresAt: null,
      },
    ]);
  });

  it("merges a clone's inventory record with live Ganeti", async () => {
    h = harness();
    const r = await h.clone({});
    const rows = await listVms(h.deps());
    expect(rows.map((x) => [x.name, x.origin])).toEqual([
      ["gallifrey", "hand-made"],
      ["gallifrey-dev", "farmctl"],
    ]);
    expect(rows[1]).toMatchObject({
      instance: r.instance,
      state: "running",
      ip: "10.10.60.6",
      mac: r.mac,
      sshPort: 22006,
      webName: "gallifrey-dev.dachary.org",
      memoryBytes: 4 * 2 ** 30,
      balloonBytes: 2 ** 30,
      diskBytes: 2 ** 30,
      source: "gallifrey.xivo.vm.farm",
      lv: expect.stringMatching(/\.disk0$/),
    });
    // One list for every VM, and one info for the hand-made ones' LVs: no Ganeti call per VM.
    const calls = h.runner.calls.length;
    await listVms(h.deps());
    expect(h.runner.calls.slice(calls).map((a) => a.slice(0, 4).join(" "))).toEqual([
      "gnt-instance list --no-headers --separator=|",
      "gnt-instance info --static gallifrey.xivo.vm.farm",
    ]);
    h.runner.instances.delete(r.instance); // someone removed it behind farmctl's back
    expect((await listVms(h.deps()))[1]!.state).toBe("missing");
  });
});

describe("farmctl show", () => {
  it("gives a clone's exact lines in each file, its operations and its live balloon", async () => {
    h = harness();
    const r = await h.clone({});
    const d = await showVm(h.deps(), "gallifrey-dev");
    expect(d.vm.ip).toBe("10.10.60.6");
    expect(d.files.map((f) => [f.family, f.path.slice(h.root.length), f.farmctl])).toEqual([
      ["dns", "/etc/bind/db.farm", true],
      ["dhcp", "/etc/dhcp/dhcpd.conf", true],
      ["firewall", "/etc/shorewall/rules", true],
      ["firewall", "/etc/shorewall/params", true],
      ["proxy", "/etc/nginx/sites-available/gallifrey-dev.dachary.org", true],
    ]);
    expect(d.files[0]!.text).toBe(
      "; farmctl begin gallifrey-dev.xivo.vm.farm\ngallifrey-dev.xivo.vm\tIN\tA\t10.10.60.6\n; farmctl end gallifrey-dev.xivo.vm.farm\n",
    );
    expect(d.files[1]!.text).toContain(`hardware ethernet ${r.mac};`);
    expect(d.operations).toEqual([
      { id: r.opId, kind: "clone", state: "succeeded", createdAt: expect.any(String) },
    ]);
    expect(d.liveBalloonBytes).toBe(2 ** 30);
  });

  it("finds a hand-made VM's hand-written lines", async () => {
    h = harness();
    const d = await showVm(h.deps(), "gallifrey");
    expect(d.vm.origin).toBe("hand-made");
    const dhcp = d.files.find((f) => f.family === "dhcp")!;
    expect(dhcp.farmctl).toBe(false);
    expect(dhcp.text).toBe(
      "host gallifrey.xivo.vm.farm {\n        hardware ethernet 52:54:2b:9e:41:07;\n        fixed-address 10.10.60.5;\n        option subnet-mask 255.255.255.0;\n    }\n",
    );
    expect(d.files.find((f) => f.family === "dns")!.text).toBe(
      "gallifrey.xivo.vm\tIN\tA\t10.10.60.5\n",
    );
    expect(d.files.filter((f) => f.family === "firewall").map((f) => f.text)).toEqual([
      "DNAT\t\tnet\t\tloc:$VM_GALLIFREY_XIVO:22\ttcp\t22005\t-\t$IP_FAILOVER\n",
      "VM_GALLIFREY_XIVO=10.10.60.5\n",
    ]);
  });

  it("names an unknown VM", async () => {
    h = harness();
    expect((await failure(showVm(h.deps(), "tardis"))).message).toBe(
      "no VM 'tardis' in the inventory or in Ganeti",
    );
  });
});
