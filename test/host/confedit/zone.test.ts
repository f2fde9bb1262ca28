import { describe, expect, it } from "vitest";
import { BadInput } from "../../../src/api/errors.js";
import * as zone from "../../../src/host/confedit/zone.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, fixture } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const DB_FARM = fixture("etc/bind/db.farm");
const TODAY = new Date("2026-11-21T10:00:00Z");

// The seed's host as an admin left it: one-line records, gallifrey hand-written.
const SEED = `$TTL 604800
@ IN SOA host01.farm. root.host01.farm. ( 2011072501 604800 86400 2419200 604800 )
@ IN NS host01.farm.
host01 IN A 10.10.60.1
gallifrey.xivo.vm\tIN\tA\t10.10.60.5
`;

describe("zone file", () => {
  it("renders the seed's record", () => {
    expect(zone.render(t, DEV)).toBe("gallifrey-dev.xivo.vm\tIN\tA\t10.10.60.6\n");
  });

  it.each([
    ["fixture db.farm", DB_FARM],
    ["seed one-liners", SEED],
    ["no final newline", SEED.trimEnd()],
  ])("add then remove gives back the same bytes (%s)", (_, text) => {
    const added = zone.addEntry(text, DEV, zone.render(t, DEV));
    expect(added.startsWith(text)).toBe(true);
    expect(added).toContain(
      "; farmctl begin gallifrey-dev.xivo.vm.farm\ngallifrey-dev.xivo.vm\tIN\tA\t10.10.60.6\n; farmctl end gallifrey-dev.xivo.vm.farm",
    );
    expect(zone.findEntry(added, DEV.fqdn)?.body).toBe(zone.render(t, DEV));
    expect(zone.removeEntry(added, DEV.fqdn)).toBe(text);
  });

  it("resets $ORIGIN inside its block when the file changed it", () => {
    const text = `${SEED}$ORIGIN xivo.vm.farm.\ngallifrey-qa IN A 10.10.60.7\n`;
    const added = zone.addEntry(text, DEV, zone.render(t, DEV));
    expect(zone.findEntry(added, DEV.fqdn)?.body).toBe(
      "$ORIGIN farm.\ngallifrey-dev.xivo.vm\tIN\tA\t10.10.60.6\n",
    );
    expect(zone.names(added, "farm")).toContain("gallifrey-dev.xivo.vm.farm");
    expect(zone.removeEntry(added, DEV.fqdn)).toBe(text);
    // an explicit $ORIGIN equal to the zone needs nothing
    const plain = `$ORIGIN farm.\n${SEED}`;
    expect(zone.findEntry(zone.addEntry(plain, DEV, "x IN A 10.10.60.6"), DEV.fqdn)?.body).toBe(
      "x IN A 10.10.60.6\n",
    );
  });

  it("refuses an entry whose fqdn is not <zoneName>.<zone>", () => {
    expect(() => zone.addEntry(SEED, { ...DEV, zoneName: "other.xivo.vm" }, "x")).toThrow(BadInput);
    expect(zone.zoneOrigin(DEV)).toBe("farm");
  });

  it("sees hand-written and farmctl addresses", () => {
    expect(zone.usedAddresses(DB_FARM).sort()).toEqual([
      "10.10.60.1",
      "10.10.60.2",
      "10.10.60.3",
      "10.10.60.4",
      "10.10.60.5",
    ]);
    const added = zone.addEntry(DB_FARM, DEV, zone.render(t, DEV));
    expect(zone.usedAddresses(added)).toContain("10.10.60.6");
  });

  it("lists absolute owner names, relative and absolute alike", () => {
    expect(zone.names(DB_FARM, "farm").sort()).toEqual([
      "farm",
      "gallifrey.xivo.vm.farm",
      "ganeti.farm",
      "host01.farm",
      "logs.farm",
      "mirror.farm",
      "www.farm",
    ]);
    const text = `$ORIGIN farm.
@ 3600 IN SOA ns root ( 1 2 3 4 5 ) ; comment ( with parens
  IN NS ns
ns IN A 10.10.60.1
Abs.Xivo.VM.farm. IN A 10.10.60.8
$ORIGIN vm.farm.
rel.xivo 300 IN A 10.10.60.9
\tIN TXT "owner continues; not a comment"
$ORIGIN xivo
deep A 10.10.60.10
`;
    expect(zone.names(text, "farm")).toEqual([
      "farm",
      "ns.farm",
      "abs.xivo.vm.farm",
      "rel.xivo.vm.farm",
      "deep.xivo.vm.farm",
    ]);
    expect(zone.usedAddresses(text)).toEqual([
      "10.10.60.1",
      "10.10.60.8",
      "10.10.60.9",
      "10.10.60.10",
    ]);
    expect(zone.hasName(text, "farm", "REL.xivo.vm.farm")).toBe(true);
    expect(zone.hasName(text, "farm", "gallifrey.xivo.vm.farm")).toBe(false);
  });
});

describe("SOA serial", () => {
  const bump = (text: string, today = TODAY) => zone.soaSerial(zone.bumpSerial(text, today));

  it("moves a date serial to today's 00", () => {
    expect(bump(DB_FARM)).toBe(2026112100);
  });

  it("adds one when the serial is already today's or later", () => {
    const today = SEED.replace("2011072501", "2026112100");
    expect(bump(today)).toBe(2026112101);
    expect(bump(SEED.replace("2011072501", "2026112199"))).toBe(2026112200);
    expect(bump(SEED.replace("2011072501", "2030010105"))).toBe(2030010106);
  });

  it("adds one to a serial that is not a date", () => {
    expect(bump(SEED.replace("2011072501", "42"))).toBe(43);
    expect(bump(SEED.replace("2011072501", "4000000000"))).toBe(4000000001);
    expect(bump(SEED.replace("2011072501", "2011133101"))).toBe(2011133102);
  });

  it("wraps at 2^32 as RFC 1982 allows", () => {
    expect(bump(SEED.replace("2011072501", "4294967295"))).toBe(0);
  });

  it("only rewrites the serial's digits in a multi-line SOA with comments", () => {
    const bumped = zone.bumpSerial(DB_FARM, TODAY);
    expect(bumped).toBe(DB_FARM.replace("2011072501\t; Serial", "2026112100\t; Serial"));
  });

  it("handles the testbed's one-line SOA", () => {
    const text = `$TTL 300
@   IN SOA ns.vm.farm. hostmaster.vm.farm. ( 2026112103 3600 600 86400 300 )
    IN NS  ns.vm.farm.
ns  IN A   127.0.0.1
`;
    expect(zone.soaSerial(text)).toBe(2026112103);
    expect(bump(text)).toBe(2026112104);
    expect(bump(text, new Date("2026-12-01T00:00:00Z"))).toBe(2026120100);
  });

  it("is not fooled by a host named soa or a serial-looking comment", () => {
    const text = `soa IN A 10.10.60.3
; SOA 1 2 3 4
farm. IN soa ns.farm. root.farm. (
  ; 1999010101
  7 ; serial
  1 2 3 4 )
`;
    expect(zone.soaSerial(text)).toBe(7);
    expect(zone.bumpSerial(text, TODAY)).toBe(text.replace("  7 ; serial", "  8 ; serial"));
  });

  it("refuses a zone without SOA", () => {
    expect(() => zone.bumpSerial("x IN A 10.0.0.1\n", TODAY)).toThrow(BadInput);
  });

  it("always increases", () => {
    for (const s of ["0", "1", "2026112100", "2026112099", "1999123199", "3000000000"]) {
      expect(zone.nextSerial(s, TODAY)).toBeGreaterThan(Number(s));
    }
  });
});

describe("a restored zone", () => {
  // The clone's zone as bind serves it: the record added, serial today's.
  const served = zone.bumpSerial(zone.addEntry(DB_FARM, DEV, zone.render(t, DEV)), TODAY);

  it("gets the old records with a serial above the one served, never the old serial", () => {
    const restored = zone.restoreAbove(DB_FARM, served, TODAY);
    expect(zone.soaSerial(served)).toBe(2026112100);
    expect(restored).toBe(DB_FARM.replace("2011072501\t; Serial", "2026112101\t; Serial"));
  });

  it("goes to today's 00 when the served serial is an older date", () => {
    const later = new Date("2026-12-01T00:00:00Z");
    expect(zone.soaSerial(zone.restoreAbove(DB_FARM, served, later))).toBe(2026120100);
  });

  it("follows a counter serial the admin bumped by hand", () => {
    const counter = SEED.replace("2011072501", "42");
    const restored = zone.restoreAbove(SEED, counter.replace("42", "57"), TODAY);
    expect(zone.soaSerial(restored)).toBe(58);
    expect(restored).toBe(SEED.replace("2011072501", "58"));
  });
});

describe("zone reader edge cases", () => {
  it("keeps an unterminated quote from swallowing the next line", () => {
    const text = `a IN TXT "open\nb IN A 10.10.60.20\n`;
    expect(zone.names(text, "farm")).toEqual(["a.farm", "b.farm"]);
    expect(zone.usedAddresses(text)).toEqual(["10.10.60.20"]);
  });
});
