// `farmctl clone gallifrey gallifrey-dev` against a real Ganeti host: the testbed's host01.farm
// (test/testbed/). Every result is checked with tools independent of farmctl: dig, getent, the
// services' own checkers, gnt-instance, lvs, the guest's serial console, QEMU's monitor, and
// HTTP / TCP from the "internet" namespace through nginx and the shorewall DNAT.
import { readFileSync } from "node:fs";
import { describe, expect, it, beforeAll } from "vitest";
import { unavailableReason, useTestbed } from "../testbed/testbed.js";
import {
  SOURCE,
  TARGET,
  farmctl,
  expectSameGuestDisk,
  farmdConfig,
  hmp,
  hostState,
  instances,
  linesKept,
  lvOf,
  lvs,
  readMarker,
  retry,
  serialAside,
  serialLine,
  withoutSerial,
  zoneSerial,
  ZONE,
  type HostState,
  E2E_TEST_MS,
} from "./helpers.js";

const skip = unavailableReason();

describe.skipIf(skip !== null)(
  `farmctl clone on the testbed's real Ganeti host${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();

    it("--dry-run changes nothing", async () => {
      const before = await hostState(tb);
      const r = await farmctl(tb, ["clone", "--dry-run", "gallifrey", "gallifrey-dev"]);
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).toContain("dry run: nothing was changed");
      // the plan is the output (issue 8 item 16): `> plan.txt` keeps it
      expect(r.stdout).toContain("$ lvcreate --snapshot");
      expect(r.stdout).toContain("$ gnt-instance add");
      expect(await hostState(tb)).toEqual(before);
    }, 120_000);

    it("a clone that fails at the Ganeti step leaves the host exactly as it was", async () => {
      // A second farmd with a wrong OS name: gnt-instance add fails after the disk was copied
      // and the DNS and DHCP entries were added, so all of that must be undone.
      const config = await farmdConfig(tb, "bad-os", {
        stateDir: `${tb.dir}/state-bad-os`,
        socket: "/run/farmd/bad-os.sock",
        extra: '[ganeti]\nos = "nosuchos+default"',
      });
      const farmd = await tb.startFarmd(config);
      try {
        const zoneBefore = tb.readFile(ZONE);
        const before = await hostState(tb);
        const r = await farmctl(tb, ["clone", "--config", config, "gallifrey", "gallifrey-qa"]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(1);
        expect(r.stderr).toMatch(/step 'adopt'.*failed/);
        expect(r.stderr).toContain("nosuchos");
        expect(r.stderr).toContain("undone dns");
        // the zone is as it was but for its serial, which only goes up (issue 8 item 5)
        const zoneAfter = tb.readFile(ZONE);
        expect(withoutSerial(zoneAfter)).toBe(withoutSerial(zoneBefore));
        expect(zoneSerial(zoneAfter)).toBeGreaterThan(zoneSerial(zoneBefore));
        expect(serialAside(await hostState(tb))).toEqual(serialAside(before));
        expect(
          (await tb.run(["dig", "+short", "@10.10.60.1", "gallifrey-qa.xivo.vm.farm"])).trim(),
        ).toBe("");
      } finally {
        await tb.exec(["kill", String(farmd)]);
      }
    }, 180_000);

    describe("farmctl clone gallifrey gallifrey-dev", () => {
      let before: HostState;
      let beforeTexts: Map<string, string>;
      let out: { exitCode: number; stdout: string; stderr: string };
      let mac: string;

      beforeAll(async () => {
        before = await hostState(tb);
        beforeTexts = new Map(
          [...before.files.keys()]
            .filter((p) => !before.files.get(p)!.startsWith("link"))
            .map((p) => [p, tb.readFile(p)]),
        );
        const t0 = Date.now();
        out = await farmctl(tb, ["clone", "gallifrey", "gallifrey-dev"]);
        // The progress display, with each step's duration, for the CI log.
        console.log(`farmctl clone took ${Date.now() - t0} ms:\n${out.stderr}\n${out.stdout}`);
        mac = /MAC\s+(\S+)/.exec(out.stdout)?.[1] ?? "";
      }, 300_000);

      it("succeeds and says what it made", () => {
        expect(out.exitCode, out.stdout + out.stderr).toBe(0);
        expect(out.stdout).toContain(`cloned ${SOURCE} into gallifrey-dev`);
        expect(out.stdout).toMatch(/address\s+10\.10\.60\.6\b/);
        expect(out.stdout).toMatch(/SSH port\s+22006\b/);
        expect(mac).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
        // The balloon wait showed it was alive, down to the target.
        expect(out.stdout + out.stderr).toMatch(/ballooning: 1\.0 GiB now, target 1\.0 GiB/);
      });

      it("names the disk as Ganeti renamed it, as `show` does", async () => {
        const lv = await lvOf(tb, TARGET);
        expect(lv).toMatch(/\.disk0$/);
        expect(out.stdout).toMatch(new RegExp(`^ {2}disk {6}${lv.replace(/\./g, "\\.")} \\(`, "m"));
        const show = await farmctl(tb, ["show", "gallifrey-dev"]);
        expect(show.stdout).toContain(lv);
      });

      it("the name resolves to 10.10.60.6 through named", async () => {
        const dig = await tb.run(["dig", "+short", "@10.10.60.1", TARGET]);
        expect(dig.trim()).toBe("10.10.60.6");
        // and through host01's resolver (resolv.conf -> named), as Ganeti and nginx resolve it
        expect((await tb.run(["getent", "hosts", TARGET])).trim()).toMatch(/^10\.10\.60\.6\s/);
      });

      it("named-checkzone, dhcpd -t, nginx -t and shorewall check accept the live files", async () => {
        await tb.run(["named-checkzone", "-k", "fail", "farm", "/etc/bind/db.farm"]);
        await tb.run(["dhcpd", "-t", "-4", "-cf", "/etc/dhcp/dhcpd.conf"]);
        await tb.run(["nginx", "-t"]);
        await tb.run(["shorewall", "check"], { timeoutMs: 120_000 });
      }, 180_000);

      it("keeps every pre-existing line of every config file", () => {
        for (const [path, text] of beforeTexts) {
          const now = tb.readFile(path);
          const missing = linesKept(text, now);
          if (path === "/etc/bind/db.farm") {
            // Only the SOA serial line may change, and only upwards.
            expect(missing).toHaveLength(1);
            expect(missing[0]).toMatch(/; Serial/);
            const serial = (t: string) => Number(/(\d+)\s*; Serial/.exec(t)?.[1]);
            expect(serial(now)).toBeGreaterThan(serial(text));
          } else {
            expect(missing, path).toEqual([]);
          }
        }
        const dhcpd = tb.readFile("/etc/dhcp/dhcpd.conf");
        expect(dhcpd).toMatch(
          new RegExp(`hardware ethernet ${mac};\\s*fixed-address 10\\.10\\.60\\.6;`),
        );
        expect(tb.readFile("/etc/shorewall/rules")).toMatch(/^DNAT\s.*\s22006\s/m);
        expect(tb.readlink("/etc/nginx/sites-enabled/gallifrey-dev.dachary.org")).toBe(
          "/etc/nginx/sites-available/gallifrey-dev.dachary.org",
        );
      });

      it("gnt-instance list shows it running with its 52:54 MAC and 4096 MiB", async () => {
        const inst = (await instances(tb)).find((i) => i.name === TARGET);
        expect(inst).toEqual({
          name: TARGET,
          status: "running",
          memoryMiB: 4096,
          macs: mac,
          diskSizes: "1024",
        });
      });

      it("the guest's console shows the DHCP lease 10.10.60.6 and the source's disk marker", async () => {
        const m = readMarker(tb).replace(/[^A-Za-z0-9._:/-]/g, "_");
        const line = await serialLine(tb, TARGET, /^STATUS ip=10\.10\.60\.6 /, 90_000);
        expect(line).toContain(`disk=${m}`);
      }, 120_000);

      it("QEMU's balloon reached 1024 MiB (info balloon on the HMP monitor)", async () => {
        expect(await hmp(tb, TARGET, "info balloon")).toMatch(/^balloon: actual=1024$/m);
      });

      it(
        "from the internet, HTTP reaches the guest through nginx",
        async () => {
          // no route from the internet to the VM network: only host01's public address is reachable
          expect((await tb.internet(["ip", "route", "get", "10.10.60.6"])).exitCode).not.toBe(0);
          // prettier-ignore
          const page = await retry("HTTP via nginx", 30_000, async () => {
          const r = await tb.internet([
            "curl", "-sS", "-m", "5", "-H", "Host: gallifrey-dev.dachary.org", "http://198.51.100.42/",
          ]);
          return r.exitCode === 0 && r.stdout.includes("ip=10.10.60.6") ? r.stdout : null;
        });
          expect(page.trim()).toMatch(/^farmguest host=\S+ ip=10\.10\.60\.6$/);
        },
        E2E_TEST_MS,
      );

      it(
        "from the internet, port 22006 reaches the guest's port 22 through the shorewall DNAT",
        async () => {
          const banner = await retry("SSH banner via DNAT", 30_000, async () => {
            const r = await tb.internet([
              "timeout",
              "8",
              "socat",
              "-u",
              "TCP:198.51.100.42:22006,connect-timeout=5",
              "-",
            ]);
            return r.stdout.startsWith("SSH-2.0-farmguest") ? r.stdout : null;
          });
          expect(banner.trim()).toBe("SSH-2.0-farmguest");
        },
        E2E_TEST_MS,
      );

      it(
        "leaves no snapshot LV, and the new disk is a copy of the source's",
        async () => {
          expect((await lvs(tb)).filter((l) => l.name.startsWith("farm-snap-"))).toEqual([]);
          const [src, dst] = [await lvOf(tb, SOURCE), await lvOf(tb, TARGET)];
          await expectSameGuestDisk(tb, src, dst);
        },
        E2E_TEST_MS,
      );

      it("leaves the source untouched: its LV, its instance, its config files", async () => {
        const after = await hostState(tb);
        for (const lv of before.lvs) expect(after.lvs).toContainEqual(lv);
        const source = (st: HostState) => st.instances.find((i) => i.name === SOURCE);
        expect(source(after)).toEqual(source(before));
        expect(source(after)?.status).toBe("running");
        for (const p of [
          "/etc/nginx/sites-available/gallifrey.dachary.org",
          "/etc/nginx/sites-enabled/gallifrey.dachary.org",
        ])
          expect(after.files.get(p)).toBe(before.files.get(p));
        const lv = await lvOf(tb, SOURCE);
        const first = await tb.run(["sh", "-c", `head -c 4096 /dev/all/${lv} | head -n 1`]);
        expect(first.trim()).toBe(readMarker(tb));
      });

      it("the LVM stand-ins saw farmctl's calls and Ganeti's", () => {
        const log = readFileSync(`${tb.dir}/log/lvm-standin.log`, "utf8");
        expect(log).toMatch(/lvcreate\[\d+\] argv: lvcreate --snapshot .* --name farm-snap-/); // farmctl
        expect(log).toMatch(/lvremove\[\d+\] argv: lvremove -f all\/farm-snap-/); // farmctl
        expect(log).toMatch(/lvrename\[\d+\] argv: lvrename all gallifrey-dev \S+\.disk0/); // Ganeti
        expect(log).toMatch(/lvchange\[\d+\] argv: lvchange -ay \/dev\/all\/\S+\.disk0/); // Ganeti
      });
    });
  },
);
