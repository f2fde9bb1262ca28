// audit over host01: clean after a clone; every kind of drift reported with a fix; --fix repairs
// only what is safe.
import { readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { audit, auditAndFix } from "../../src/ops/audit/audit.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const deps = () => ({ ...h.deps(), resolve: h.resolve });
const codes = async () =>
  (await audit(deps())).map((f) => `${f.severity} ${f.code}${f.vm ? ` ${f.vm}` : ""}`);
const etc = (p: string) => join(h.root, "etc", p);
const edit = (p: string, f: (s: string) => string) =>
  writeFileSync(etc(p), f(readFileSync(etc(p), "utf8")));

describe("farmctl audit", () => {
  it("is clean on the seed host and after a clone", async () => {
    h = harness();
    expect(await codes()).toEqual([]);
    await h.clone({});
    const calls = h.runner.calls.length;
    expect(await codes()).toEqual([]);
    // Two cluster-wide Ganeti queries, whatever the number of VMs; never one per instance.
    expect(
      h.runner.calls
        .slice(calls)
        .filter((a) => a[0]!.startsWith("gnt-"))
        .map((a) => a.slice(0, 2).join(" ")),
    ).toEqual(["gnt-instance list", "gnt-node volumes"]);
    expect((await auditAndFix(deps(), false)).clean).toBe(true);
  });

  const BREAKS: [string, (r: { mac: string }) => void, string[]][] = [
    [
      "the zone record removed",
      () =>
        edit("bind/db.farm", (s) =>
          s.replace(
            /; farmctl begin gallifrey-dev[\s\S]*?; farmctl end gallifrey-dev\.xivo\.vm\.farm\n/,
            "",
          ),
        ),
      ["error entry-missing gallifrey-dev", "error name-not-resolving gallifrey-dev"],
    ],
    [
      "the DHCP host removed",
      () =>
        edit("dhcp/dhcpd.conf", (s) =>
          s.replace(
            /# farmctl begin gallifrey-dev[\s\S]*?# farmctl end gallifrey-dev\.xivo\.vm\.farm\n/,
            "",
          ),
        ),
      ["error entry-missing gallifrey-dev"],
    ],
    [
      "the shorewall param removed",
      () =>
        edit("shorewall/params", (s) =>
          s.replace(
            /# farmctl begin gallifrey-dev[\s\S]*?# farmctl end gallifrey-dev\.xivo\.vm\.farm\n/,
            "",
          ),
        ),
      ["error entry-missing gallifrey-dev"],
    ],
    [
      "the nginx symlink removed",
      () => unlinkSync(etc("nginx/sites-enabled/gallifrey-dev.dachary.org")),
      ["error entry-missing gallifrey-dev"],
    ],
  ];
  for (const [what, breakIt, expected] of BREAKS) {
    it(`reports ${what}, and --fix repairs it`, async () => {
      h = harness();
      const r = await h.clone({});
      const cloned = h.snapshot();
      breakIt(r);
      expect(await codes()).toEqual(expected);
      const report = await auditAndFix(deps(), true);
      expect(report.repaired.map((f) => f.code)).toContain("entry-missing");
      expect(report.clean).toBe(true);
      expect(report.findings).toEqual([]);
      // The repaired file is the clone's again (the zone's serial aside: it went up once more).
      const mask = (m: Map<string, string>) =>
        new Map([...m].map(([p, t]) => [p, t.replace(/\d{10}(\s*; Serial)/, "S$1")]));
      expect(mask(h.snapshot())).toEqual(mask(cloned));
    });
  }

  it("reports a value edited by hand, with the fix, and does not guess a repair", async () => {
    h = harness();
    await h.clone({});
    edit("shorewall/rules", (s) => s.replace("tcp\t22006", "tcp\t22099"));
    const f = (await audit(deps())).filter((x) => x.code === "value-mismatch");
    expect(f).toEqual([
      expect.objectContaining({
        vm: "gallifrey-dev",
        message: `${etc("shorewall/rules")}, ${etc("shorewall/params")} gives gallifrey-dev port 22099, the inventory 22006`,
      }),
    ]);
    expect(f[0]!.repair).toBeUndefined();
  });

  it("finds a snapshot a crash left, with its fill, and --fix removes it; never an unused disk", async () => {
    h = harness();
    h.runner.lvs.set("farm-snap-deadbeef", {
      name: "farm-snap-deadbeef",
      uuid: "snap-uuid",
      sizeBytes: 2 ** 30,
      origin: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
    });
    h.runner.lvs.set("old-disk", {
      name: "old-disk",
      uuid: "old-uuid",
      sizeBytes: 2 ** 30,
      origin: "",
    });
    const found = await audit(deps());
    expect(found.map((f) => f.message)).toEqual([
      "snapshot all/farm-snap-deadbeef (0% full) was left by operation deadbeef",
      "LV all/old-disk (1073741824 bytes) is used by no instance",
    ]);
    const report = await auditAndFix(deps(), true);
    expect(report.repaired.map((f) => f.code)).toEqual(["snapshot-left"]);
    expect(h.runner.lvs.has("farm-snap-deadbeef")).toBe(false);
    expect(h.runner.lvs.has("old-disk")).toBe(true);
    expect(report.clean).toBe(false);
  });

  it("--fix leaves alone the snapshot of a clone that is interrupted or queued", async () => {
    h = harness();
    const snapOf = (opId: string) => ({
      name: `farm-snap-${opId}`,
      uuid: `snap-${opId}`,
      sizeBytes: 2 ** 30,
      origin: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
    });
    const ops = ["interrupted", "queued", "recovering", "rolled-back"] as const;
    const ids = ops.map((state, i) => {
      const id = h.journal.createOperation("clone", `build${i}`, { name: `build${i}` });
      h.journal.setOperationState(id, state);
      h.runner.lvs.set(`farm-snap-${id}`, snapOf(id));
      return id;
    });
    const report = await auditAndFix(deps(), true);
    // Only the finished (rolled-back) operation's snapshot is a leftover.
    expect(report.repaired.map((f) => f.message)).toEqual([
      `snapshot all/farm-snap-${ids[3]} (0% full) was left by operation ${ids[3]}`,
    ]);
    expect(ids.map((id) => h.runner.lvs.has(`farm-snap-${id}`))).toEqual([true, true, true, false]);
  });

  it("--fix never re-adds the entries of a VM an interrupted destroy is taking apart", async () => {
    h = harness();
    await h.clone({});
    const opId = h.journal.createOperation("destroy", "gallifrey-dev", { name: "gallifrey-dev" });
    h.journal.setOperationState(opId, "interrupted");
    // The destroy had taken its nginx site and DHCP host out when farmd stopped.
    unlinkSync(etc("nginx/sites-enabled/gallifrey-dev.dachary.org"));
    edit("dhcp/dhcpd.conf", (s) =>
      s.replace(
        /# farmctl begin gallifrey-dev[\s\S]*?# farmctl end gallifrey-dev\.xivo\.vm\.farm\n/,
        "",
      ),
    );
    const half = h.snapshot();
    const report = await auditAndFix(deps(), true);
    expect(report.repaired).toEqual([]);
    expect(report.findings).toEqual([
      expect.objectContaining({
        severity: "info",
        code: "in-flight",
        vm: "gallifrey-dev",
        message: `gallifrey-dev is being worked on by operation ${opId} (destroy, interrupted); not checked`,
      }),
    ]);
    expect(report.clean).toBe(true);
    expect(h.snapshot()).toEqual(half);
  });

  it("reports duplicate addresses, MACs and ports, and an instance gone from Ganeti", async () => {
    h = harness();
    const r = await h.clone({});
    edit(
      "dhcp/dhcpd.conf",
      (s) => s + `host twin { hardware ethernet ${r.mac}; fixed-address 10.10.60.5; }\n`,
    );
    edit("shorewall/rules", (s) => s + "DNAT\tnet\tloc:10.10.60.9:22\ttcp\t22005\n");
    h.runner.instances.delete(r.instance);
    expect(await codes()).toEqual([
      "error instance-missing gallifrey-dev",
      "warning lv-unused",
      "error duplicate",
      "error duplicate",
      "error duplicate",
    ]);
    const msgs = (await audit(deps())).map((f) => f.message);
    expect(msgs).toEqual(
      expect.arrayContaining([
        "address 10.10.60.5 is used by gallifrey.xivo.vm.farm and twin",
        `MAC ${r.mac} is used by gallifrey-dev.xivo.vm.farm and twin`,
        "SSH port 22005 is forwarded by 2 DNAT rules",
      ]),
    );
  });
});
