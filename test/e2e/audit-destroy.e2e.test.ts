// The admin's view of the farm on the testbed's real Ganeti host (issue 5): after
// `farmctl clone gallifrey gallifrey-dev`, audit is clean; each config file broken by hand in turn
// is reported (exit 1, with its code and VM) and `audit --fix` repairs what is safe; a snapshot
// left behind is reported and removed; show, balloon; destroy puts every file back byte for byte
// (the zone's serial aside, which only goes up); the hand-made gallifrey is refused by destroy and
// taken in by import. Checked with dig, lvs, gnt-instance, losetup, QEMU's monitor and the bytes.
import { describe, expect, it, beforeAll } from "vitest";
import { unavailableReason, useTestbed, type Testbed } from "../testbed/testbed.js";
import {
  SOURCE,
  TARGET,
  ZONE,
  configTexts,
  farmctl,
  farmctlBlock,
  farmctlJson,
  hmp,
  hostState,
  lvOf,
  lvs,
  readMarker,
  retry,
  withoutMarkers,
  withoutSerial,
  writeInside,
  zoneSerial,
  type HostState,
  E2E_TEST_MS,
} from "./helpers.js";

const skip = unavailableReason();
const DHCPD = "/etc/dhcp/dhcpd.conf";
const RULES = "/etc/shorewall/rules";
const PARAMS = "/etc/shorewall/params";
const SITE = "/etc/nginx/sites-available/gallifrey-dev.dachary.org";
const LINK = "/etc/nginx/sites-enabled/gallifrey-dev.dachary.org";

interface AuditJson {
  ok: boolean;
  clean: boolean;
  findings: {
    severity: string;
    code: string;
    vm: string | null;
    message: string;
    repair?: Record<string, string>;
  }[];
  repaired: { code: string }[];
}

const dig = async (tb: Testbed, name: string) =>
  (await tb.run(["dig", "+short", "@10.10.60.1", name])).trim();

async function auditClean(tb: Testbed) {
  const r = await farmctl(tb, ["audit"]);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  expect(r.stdout).toBe("clean: the inventory and the host agree\n");
}

/** The file's text without farmctl's block for fqdn (the hand-break of an entry). */
function dropBlock(text: string, fqdn: string): string {
  const block = farmctlBlock(text, fqdn);
  expect(block, `farmctl's block for ${fqdn}`).not.toBe("");
  return text.replace(block, "");
}

describe.skipIf(skip !== null)(
  `farmctl audit, show, balloon, destroy and import on the testbed${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();
    let before: HostState;
    let beforeTexts: Map<string, string>;
    let mac = "";

    beforeAll(async () => {
      before = await hostState(tb);
      beforeTexts = await configTexts(tb);
      const t0 = Date.now();
      const r = await farmctl(tb, ["clone", "gallifrey", "gallifrey-dev"]);
      console.log(`farmctl clone took ${Date.now() - t0} ms`);
      if (r.exitCode !== 0) throw new Error(`farmctl clone failed:\n${r.stdout}${r.stderr}`);
      mac = /MAC\s+(\S+)/.exec(r.stdout)?.[1] ?? "";
      expect(mac).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
    }, 300_000);

    it("audit is clean after the clone", async () => {
      await auditClean(tb);
      const j = await farmctlJson<AuditJson>(tb, ["audit"]);
      expect(j).toEqual({ ok: true, clean: true, findings: [], repaired: [] });
    });

    /** Audit reports exactly the expected findings for gallifrey-dev, in text and JSON; exit 1. */
    async function expectReported(codes: string[], fixable: boolean) {
      const text = await farmctl(tb, ["audit"]);
      expect(text.exitCode, text.stdout + text.stderr).toBe(1);
      const j = await farmctlJson<AuditJson>(tb, ["audit"], 1);
      expect(j.ok).toBe(false);
      expect(j.findings.map((f) => [f.code, f.vm, f.severity]).sort()).toEqual(
        codes.map((c) => [c, "gallifrey-dev", "error"]).sort(),
      );
      for (const f of j.findings)
        expect(text.stdout).toContain(`ERROR   gallifrey-dev: ${f.message}`);
      expect(j.findings.some((f) => f.repair)).toBe(fixable);
      return j;
    }

    /** --fix repairs it; the next audit is clean. */
    async function fixAndCheck(message: string) {
      const fix = await farmctl(tb, ["audit", "--fix", "--yes"]);
      expect(fix.exitCode, fix.stdout + fix.stderr).toBe(0);
      expect(fix.stdout).toContain(`farmctl can repair:\n  - ${message}\n`);
      expect(fix.stdout).toMatch(
        /repaired 1 finding\(s\); clean: the inventory and the host agree\n$/,
      );
      await auditClean(tb);
    }

    it(
      "the zone without farmctl's record (bind reloaded): reported, and --fix adds it back",
      async () => {
        const saved = tb.readFile(ZONE);
        await writeInside(tb, ZONE, dropBlock(saved, TARGET));
        await tb.run(["rndc", "reload", "farm"]);
        await retry(
          "bind to drop the name",
          30_000,
          async () => ((await dig(tb, TARGET)) ? null : true),
          200,
        );
        const j = await expectReported(["entry-missing", "name-not-resolving"], true);
        expect(j.findings.find((f) => f.code === "entry-missing")?.message).toBe(
          "the DNS record of gallifrey-dev is missing",
        );
        await fixAndCheck("the DNS record of gallifrey-dev is missing");
        // The same bytes as before the break, with a higher serial (the zone changed twice).
        const now = tb.readFile(ZONE);
        expect(withoutSerial(now)).toBe(withoutSerial(saved));
        expect(zoneSerial(now)).toBeGreaterThan(zoneSerial(saved));
        expect(await dig(tb, TARGET)).toBe("10.10.60.6");
      },
      E2E_TEST_MS,
    );

    it(
      "dhcpd.conf without farmctl's host: reported, and --fix adds it back byte for byte",
      async () => {
        const saved = tb.readFile(DHCPD);
        await writeInside(tb, DHCPD, dropBlock(saved, TARGET));
        await expectReported(["entry-missing"], true);
        await fixAndCheck("the DHCP host of gallifrey-dev is missing");
        expect(tb.readFile(DHCPD)).toBe(saved);
        await tb.run(["dhcpd", "-t", "-4", "-cf", DHCPD]);
      },
      E2E_TEST_MS,
    );

    it(
      "shorewall params without farmctl's param: reported, and --fix adds it back byte for byte",
      async () => {
        const saved = tb.readFile(PARAMS);
        await writeInside(tb, PARAMS, dropBlock(saved, TARGET));
        await expectReported(["entry-missing"], true);
        await fixAndCheck("the shorewall rule and param of gallifrey-dev is missing");
        expect(tb.readFile(PARAMS)).toBe(saved);
      },
      E2E_TEST_MS,
    );

    it(
      "shorewall rules with another DNAT port: reported; --fix does not guess; put back by hand",
      async () => {
        const saved = tb.readFile(RULES);
        const block = farmctlBlock(saved, TARGET);
        expect(block).toMatch(/\t22006\t/);
        const broken = saved.replace(block, block.replace(/\t22006\t/, "\t22106\t"));
        await writeInside(tb, RULES, broken);
        const j = await expectReported(["value-mismatch"], false);
        expect(j.findings[0]!.message).toMatch(
          /gives gallifrey-dev port 22106, the inventory 22006$/,
        );
        // --fix has nothing it may do: the finding stays, the file too, exit 1.
        const fix = await farmctl(tb, ["audit", "--fix", "--yes"]);
        expect(fix.exitCode, fix.stdout + fix.stderr).toBe(1);
        expect(fix.stdout).toContain("port 22106, the inventory 22006");
        expect(tb.readFile(RULES)).toBe(broken);
        // The admin puts it back, as the report says.
        await writeInside(tb, RULES, saved);
        await auditClean(tb);
      },
      E2E_TEST_MS,
    );

    it(
      "nginx without the site's symlink: reported, and --fix links it again",
      async () => {
        const target = tb.readlink(LINK);
        const site = tb.readFile(SITE);
        await tb.run(["rm", LINK]);
        await expectReported(["entry-missing"], true);
        await fixAndCheck("the nginx site and symlink of gallifrey-dev is missing");
        expect(tb.readlink(LINK)).toBe(target);
        expect(tb.readFile(SITE)).toBe(site);
        await tb.run(["nginx", "-t"]);
      },
      E2E_TEST_MS,
    );

    it(
      "a snapshot left behind is reported with its fill, and --fix removes it",
      async () => {
        const lvsBefore = await lvs(tb);
        const loopsBefore = (await hostState(tb)).loops;
        const snap = "farm-snap-0badc0de";
        // prettier-ignore
        await tb.run([
        "lvcreate", "--snapshot", "--size", "64M", "--name", snap, `/dev/all/${await lvOf(tb, SOURCE)}`,
      ]);
        // Its fill as LVM reports it (the testbed's stand-in snapshot is a plain LV: none).
        const fill = (
          await tb.run(["lvs", "--noheadings", "-o", "data_percent", `all/${snap}`])
        ).trim();
        const text = await farmctl(tb, ["audit"]);
        expect(text.exitCode, text.stdout + text.stderr).toBe(1);
        const j = await farmctlJson<AuditJson>(tb, ["audit"], 1);
        expect(j.findings).toHaveLength(1);
        const f = j.findings[0]!;
        expect(f).toMatchObject({
          severity: "warning",
          code: "snapshot-left",
          vm: null,
          repair: { action: "remove-snapshot", vg: "all", lv: snap },
        });
        expect(f.message).toBe(
          `snapshot all/${snap}${fill ? ` (${Number(fill)}% full)` : ""} was left by operation 0badc0de`,
        );
        expect(text.stdout).toContain(`WARNING -: ${f.message}`);
        const fix = await farmctl(tb, ["audit", "--fix", "--yes"]);
        expect(fix.exitCode, fix.stdout + fix.stderr).toBe(0);
        expect(fix.stdout).toContain(`repaired 1 finding(s); clean`);
        expect(await lvs(tb)).toEqual(lvsBefore);
        expect((await hostState(tb)).loops).toEqual(loopsBefore);
        await auditClean(tb);
      },
      E2E_TEST_MS,
    );

    it("show prints the VM's values, its exact lines in each file, and its clone", async () => {
      const r = await farmctl(tb, ["show", "gallifrey-dev"]);
      expect(r.exitCode, r.stderr).toBe(0);
      for (const line of [
        "gallifrey-dev\n",
        `  instance  ${TARGET}\n`,
        "  origin    farmctl\n",
        "  state     running\n",
        "  address   10.10.60.6\n",
        `  MAC       ${mac}\n`,
        "  SSH port  22006\n",
        "  web       gallifrey-dev.dachary.org\n",
        "  memory    4.0 GiB\n",
        `  source    ${SOURCE}\n`,
      ])
        expect(r.stdout).toContain(line);
      expect(r.stdout).toMatch(/\noperations:\n {2}[0-9a-f]{8} clone succeeded \S+\n/);
      // Each file's block, read here from the file itself, is printed exactly.
      const expected = [
        { family: "dns", path: ZONE },
        { family: "dhcp", path: DHCPD },
        { family: "firewall", path: RULES },
        { family: "firewall", path: PARAMS },
        { family: "proxy", path: SITE },
      ].map((e) => ({ ...e, text: farmctlBlock(tb.readFile(e.path), TARGET), farmctl: true }));
      for (const e of expected) {
        expect(e.text).toContain(`farmctl begin ${TARGET}`);
        expect(r.stdout).toContain(
          `\n${e.path} (farmctl's block):\n${e.text.replace(/^/gm, "  ")}`,
        );
      }
      const j = await farmctlJson<{ files: unknown[] }>(tb, ["show", "gallifrey-dev"]);
      expect(j.files).toEqual(expected);
    });

    it(
      "balloon gallifrey-dev 768M: the guest reaches 768 MiB (info balloon)",
      async () => {
        const r = await farmctl(tb, ["balloon", "gallifrey-dev", "768M"]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toBe(`${TARGET}: asked 768 MiB, the guest holds 768 MiB\n`);
        expect(await hmp(tb, TARGET, "info balloon")).toMatch(/^balloon: actual=768$/m);
      },
      E2E_TEST_MS,
    );

    it("destroy gallifrey-dev: audit clean, every file as before the clone but a higher serial", async () => {
      const r = await farmctl(tb, ["destroy", "gallifrey-dev", "--yes"]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^destroyed gallifrey-dev \(operation [0-9a-f]{8}\)\n/);
      await auditClean(tb);

      const after = await hostState(tb);
      expect([...after.files.keys()]).toEqual([...before.files.keys()]);
      for (const [path, hash] of before.files) {
        if (path !== ZONE) expect(after.files.get(path), path).toBe(hash);
      }
      const zone = tb.readFile(ZONE);
      expect(withoutSerial(zone)).toBe(withoutSerial(beforeTexts.get(ZONE)!));
      expect(zoneSerial(zone)).toBeGreaterThan(zoneSerial(beforeTexts.get(ZONE)!));
      // named serves it: the SOA's serial went up, the name is gone
      const soaSerial = (soa: string) => Number(soa.split(/\s+/)[2]);
      expect(soaSerial(after.soa)).toBe(zoneSerial(zone));
      expect(soaSerial(after.soa)).toBeGreaterThan(soaSerial(before.soa));
      expect(await dig(tb, TARGET)).toBe("");
      // no gallifrey-dev LV, instance or loop; gallifrey untouched, its disk too
      expect(after.lvs).toEqual(before.lvs);
      expect(after.instances).toEqual(before.instances);
      expect(after.loops).toEqual(before.loops);
      const first = await tb.run([
        "sh",
        "-c",
        `head -c 4096 /dev/all/${await lvOf(tb, SOURCE)} | head -n 1`,
      ]);
      expect(first.trim()).toBe(readMarker(tb));
    }, 120_000);

    it(
      "destroy gallifrey (made by hand) is refused with exit 65 and changes nothing",
      async () => {
        const st = await hostState(tb);
        const r = await farmctl(tb, ["destroy", "gallifrey", "--yes"]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(65);
        expect(r.stderr).toContain(`VM 'gallifrey' (${SOURCE}) was not made by farmctl`);
        expect(r.stderr).toContain("--force");
        expect(await hostState(tb)).toEqual(st);
      },
      E2E_TEST_MS,
    );

    it(
      "import gallifrey: its hand-written lines get farmctl's markers, every other byte stays",
      async () => {
        const st = await hostState(tb);
        const texts = await configTexts(tb);
        const r = await farmctl(tb, ["import", "gallifrey"]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toBe(
          `imported ${SOURCE}: 10.10.60.5, 52:54:2b:9e:41:07, SSH port 22005, web gallifrey.dachary.org\n`,
        );
        const wrapped = [
          ZONE,
          DHCPD,
          RULES,
          PARAMS,
          "/etc/nginx/sites-available/gallifrey.dachary.org",
        ];
        for (const path of wrapped) {
          const was = texts.get(path)!;
          const now = tb.readFile(path);
          // exactly two lines more: the markers, around lines that were there, together, before
          expect(withoutMarkers(now, SOURCE), path).toBe(was);
          const block = farmctlBlock(now, SOURCE).split("\n");
          expect(block.length, path).toBeGreaterThan(3);
          const inner = block.slice(1, -2).join("\n") + "\n";
          expect(was, path).toContain(inner);
          expect(inner, path).toMatch(/gallifrey/i);
        }
        const after = await hostState(tb);
        for (const [path, hash] of st.files)
          if (!wrapped.includes(path)) expect(after.files.get(path), path).toBe(hash);
        expect(after.soa).toBe(st.soa); // no record changed: no serial bump
        expect(after.lvs).toEqual(st.lvs);
        expect(after.instances).toEqual(st.instances);

        await auditClean(tb);
        const list = await farmctl(tb, ["list", "-o", "name,origin", "--no-headers"]);
        expect(list.exitCode, list.stderr).toBe(0);
        expect(
          list.stdout
            .trim()
            .split("\n")
            .map((l) => l.trim().split(/\s+/)),
        ).toEqual([["gallifrey", "farmctl"]]);
        const j = await farmctlJson<{ vms: { name: string; origin: string; ip: string }[] }>(tb, [
          "list",
        ]);
        expect(j.vms).toMatchObject([{ name: "gallifrey", origin: "farmctl", ip: "10.10.60.5" }]);
      },
      E2E_TEST_MS,
    );
  },
);
