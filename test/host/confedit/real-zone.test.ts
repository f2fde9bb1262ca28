// named-checkzone for real on the seed-style db.farm, as edited by farmctl.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationFailed } from "../../../src/api/errors.js";
import { validateZone } from "../../../src/host/confedit/checkers.js";
import * as zone from "../../../src/host/confedit/zone.js";
import { DnsFamily } from "../../../src/host/families/dns.js";
import type { Revert } from "../../../src/host/families/edit.js";
import { RealFiles } from "../../../src/host/files.js";
import { ExecaRunner } from "../../../src/host/runner.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, fixture, hasBinary, skipNote, tempDir } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const runner = new ExecaRunner();
const TODAY = new Date("2026-11-21T10:00:00Z");
let cleanup = () => {};
afterEach(() => cleanup());

function write(text: string): string {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const file = join(tmp.dir, "db.farm");
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!hasBinary("named-checkzone"))(
  `named-checkzone (real)${skipNote("named-checkzone")}`,
  () => {
    it("accepts the fixture as the admin left it", async () => {
      const out = await validateZone(runner, "farm", write(fixture("etc/bind/db.farm")));
      expect(out).toContain("loaded serial 2011072501");
    });

    it("accepts db.farm with farmctl's record and a bumped serial", async () => {
      const edited = zone.bumpSerial(
        zone.addEntry(fixture("etc/bind/db.farm"), DEV, zone.render(t, DEV)),
        TODAY,
      );
      const out = await validateZone(runner, "farm", write(edited));
      expect(out).toMatch(/loaded serial 2026112100\nOK/);
    });

    it("accepts the block after a file without final newline and a changed $ORIGIN", async () => {
      const text =
        fixture("etc/bind/db.farm") + "$ORIGIN xivo.vm.farm.\ngallifrey-qa IN A 10.10.60.7";
      const edited = zone.bumpSerial(zone.addEntry(text, DEV, zone.render(t, DEV)), TODAY);
      await expect(validateZone(runner, "farm", write(edited))).resolves.toContain("OK");
      expect(zone.names(edited, "farm")).toContain("gallifrey-dev.xivo.vm.farm");
    });

    it("the clone's DNS step then its undo: the records as before, the serial above the one served", async () => {
      const file = write(fixture("etc/bind/db.farm"));
      // Each reload loads the zone as named does and keeps the serial it would serve.
      const served: number[] = [];
      const dns = new DnsFamily({
        files: new RealFiles(join(file, "..", "backups")),
        service: {
          describe: () => ["named-checkzone", "farm", file],
          reload: async () => {
            const out = await validateZone(runner, "farm", file);
            served.push(Number(/loaded serial (\d+)/.exec(out)![1]));
          },
        },
        runner,
        templates: t,
        zone: "farm",
        zoneFile: file,
        check: { wrap: [] },
        resolve: async () => [],
        resolveTimeoutMs: 0,
        today: () => TODAY,
      });
      let revert: Revert | undefined;
      await dns.add(DEV, (r) => (revert = r));
      await dns.revert(DEV, revert);
      expect(served).toEqual([2026112100, 2026112101]);
      expect(readFileSync(file, "utf8")).toBe(
        fixture("etc/bind/db.farm").replace("2011072501\t; Serial", "2026112101\t; Serial"),
      );
      // A destroy's removal undone the same way: the record back, the serial up again.
      await dns.add(DEV, () => {});
      await dns.remove(DEV, (r) => (revert = r));
      await dns.restore(DEV, revert);
      expect(served).toEqual([2026112100, 2026112101, 2026112102, 2026112103, 2026112104]);
      expect(zone.findEntry(readFileSync(file, "utf8"), DEV.fqdn)).toBeDefined();
    });

    it.each([
      ["a bad address", "gallifrey-dev.xivo.vm\tIN\tA\t10.10.60.300", /bad dotted quad/],
      ["a name clashing with a CNAME", "www\tIN\tA\t10.10.60.6", /CNAME and other data/],
      [
        "an illegal host name",
        "gallifrey_dev.xivo.vm\tIN\tA\t10.10.60.6",
        /bad owner name \(check-names\)/,
      ],
    ])("refuses %s with named-checkzone's message", async (_, record, message) => {
      const file = write(zone.addEntry(fixture("etc/bind/db.farm"), DEV, record));
      const err = await validateZone(runner, "farm", file).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      expect((err as ValidationFailed).hint).toMatch(message);
      expect((err as ValidationFailed).message).toBe(
        `${file}: rejected by named-checkzone -k fail farm ${file}`,
      );
    });
  },
);
