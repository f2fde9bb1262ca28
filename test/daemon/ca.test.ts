// farmd's CA with the real openssl: init, issue, list, revoke, and what it refuses.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { IssueRequest } from "../../src/api/ca.js";
import { filesWithModes, refusal, useCa } from "./ca-fixture.js";

const t = useCa();
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

describe("ca init", () => {
  it("makes a P-256 CA in <stateDir>/ca: dir 0700, key 0600; a second init keeps it", async () => {
    const first = await t().ca.init();
    expect(first.created).toBe(true);
    expect(filesWithModes(t().stateDir)).toMatchObject({
      ca: "700",
      "ca/ca.key": "600",
      "ca/ca.pem": "644",
    });
    expect(readdirSync(join(t().stateDir, "ca")).sort()).toEqual(["ca.key", "ca.pem"]);
    expect(readdirSync(t().stateDir).filter((f) => f.startsWith(".ca-"))).toEqual([]);
    const cert = new X509Certificate(first.caPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain("O=farmd");
    expect(first.fingerprint).toBe(cert.fingerprint256);
    const key = createPrivateKey(readFileSync(join(t().stateDir, "ca/ca.key")));
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(cert.checkPrivateKey(key)).toBe(true);
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(3640 * 86_400_000);

    const again = await t().ca.init();
    expect(again).toEqual({ created: false, fingerprint: first.fingerprint, caPem: first.caPem });
  });

  it("refuses a ca directory holding half a CA, and leaves it as it is", async () => {
    const dir = join(t().stateDir, "ca");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(join(dir, "ca.key"), "someone's key\n", { mode: 0o600 });
    const err = await refusal(t().ca.init());
    expect(err.exitCode).toBe(78);
    expect(err.message).toBe(`${dir} exists but has no ${dir}/ca.pem`);
    expect(err.hint).toContain(`move ${dir} away`);
    expect(readdirSync(dir)).toEqual(["ca.key"]);
    expect(readFileSync(join(dir, "ca.key"), "utf8")).toBe("someone's key\n");
  });
});

describe("ca issue", () => {
  it("is refused before init (78, naming `farmctl ca init`)", async () => {
    const err = await refusal(t().ca.issue({ name: "ci", role: "reader" }));
    expect(err.exitCode).toBe(78);
    expect(err.hint).toContain("farmctl ca init");
    expect(t().ca.list()).toEqual({ ca: null, certificates: [] });
  });

  it("issues a client certificate of the CA, records it, and keeps no key of it", async () => {
    const { caPem } = await t().ca.init();
    const issued = await t().ca.issue({
      name: "ci-runner",
      role: "operator",
      days: 30,
      sources: ["gallifrey", "builder-*"],
      maxVms: 4,
    });
    const [leafPem, chainedCa] = issued.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    expect(chainedCa).toBe(caPem);
    expect(issued.caPem).toBe(caPem);
    const leaf = new X509Certificate(leafPem!);
    const ca = new X509Certificate(caPem);
    expect(leaf.checkIssued(ca) && leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.subject).toBe("O=farmd\nCN=ci-runner");
    expect(leaf.keyUsage).toEqual([CLIENT_AUTH]);
    expect(leaf.checkPrivateKey(createPrivateKey(issued.keyPem))).toBe(true);
    const days = (Date.parse(leaf.validTo) - Date.parse(leaf.validFrom)) / 86_400_000;
    expect(days).toBe(30);

    expect(issued.record).toEqual({
      serial: leaf.serialNumber.toLowerCase(),
      name: "ci-runner",
      role: "operator",
      sources: ["gallifrey", "builder-*"],
      maxVms: 4,
      fingerprint: leaf.fingerprint256,
      notBefore: new Date(leaf.validFrom).toISOString(),
      notAfter: new Date(leaf.validTo).toISOString(),
      issuedAt: expect.any(String),
      revokedAt: null,
    });
    expect(issued.record.serial).toMatch(/^[4-7][0-9a-f]{31}$/);
    expect(t().ca.list().certificates).toEqual([issued.record]);
    expect(t().ca.list().ca).toEqual({
      fingerprint: ca.fingerprint256,
      subject: ca.subject.replace("\n", ", "),
      notAfter: new Date(ca.validTo).toISOString(),
    });
    expect(readdirSync(join(t().stateDir, "ca")).sort()).toEqual(["ca.key", "ca.pem"]);
  });

  it("removes a work directory a crash left, with the key in it", async () => {
    await t().ca.init();
    const left = join(t().stateDir, "ca/.work-crashed");
    mkdirSync(left, { mode: 0o700 });
    writeFileSync(join(left, "key.pem"), "a key\n", { mode: 0o600 });
    await t().ca.issue({ name: "ci", role: "reader" });
    expect(readdirSync(join(t().stateDir, "ca")).sort()).toEqual(["ca.key", "ca.pem"]);
  });

  it("defaults to 365 days, no sources and no quota", async () => {
    await t().ca.init();
    const { record } = await t().ca.issue({ name: "viewer", role: "reader" });
    expect(record).toMatchObject({ role: "reader", sources: null, maxVms: null });
    const days = (Date.parse(record.notAfter) - Date.parse(record.notBefore)) / 86_400_000;
    expect(days).toBe(365);
  });

  it("refuses a second active certificate of a name until the first is revoked or expired", async () => {
    await t().ca.init();
    const first = await t().ca.issue({ name: "ci", role: "operator" });
    const dup = await refusal(t().ca.issue({ name: "ci", role: "admin" }));
    expect(dup.code).toBe("already_exists");
    expect(dup.message).toBe(
      `certificate 'ci' is active (serial ${first.record.serial}, until ${first.record.notAfter})`,
    );
    expect(dup.hint).toBe("revoke it first: farmctl ca revoke ci");
    expect(t().ca.list().certificates).toHaveLength(1);

    t().ca.revoke("ci");
    const second = await t().ca.issue({ name: "ci", role: "admin" });
    // An expired one does not hold its name either.
    t()
      .db.prepare("UPDATE certificates SET not_after = ? WHERE serial = ?")
      .run("2020-01-01T00:00:00.000Z", second.record.serial);
    await t().ca.issue({ name: "ci", role: "reader" });
    expect(
      t()
        .ca.list()
        .certificates.map((c) => c.role),
    ).toEqual(["operator", "admin", "reader"]);
  });

  const bad: [string, IssueRequest, string, string][] = [
    [
      "a name with a slash",
      { name: "../ci", role: "reader" },
      "certificate name '../ci' is not valid",
      "lowercase",
    ],
    [
      "an upper-case name",
      { name: "CI", role: "reader" },
      "certificate name 'CI' is not valid",
      "lowercase",
    ],
    [
      "a name of 64 characters",
      { name: "a".repeat(64), role: "reader" },
      `certificate name '${"a".repeat(64)}' is not valid`,
      "1 to 63",
    ],
    [
      "an unknown role",
      { name: "ci", role: "root" as "admin" },
      "role 'root' is not a role",
      "reader, operator, admin",
    ],
    [
      "0 days",
      { name: "ci", role: "reader", days: 0 },
      "0 days is not a validity farmd's CA issues",
      "from 1 to 3650",
    ],
    [
      "1.5 days",
      { name: "ci", role: "reader", days: 1.5 },
      "1.5 days is not a validity farmd's CA issues",
      "whole number",
    ],
    [
      "20 years",
      { name: "ci", role: "reader", days: 7300 },
      "7300 days is not a validity farmd's CA issues",
      "from 1 to 3650",
    ],
    [
      "sources for a reader",
      { name: "ci", role: "reader", sources: ["x"] },
      "--sources and --max-vms limit an operator, not a reader",
      "--role operator",
    ],
    [
      "a quota for an admin",
      { name: "ci", role: "admin", maxVms: 3 },
      "--sources and --max-vms limit an operator, not an admin",
      "leave them out",
    ],
    [
      "a source with a space",
      { name: "ci", role: "operator", sources: ["a b"] },
      "source pattern 'a b' is not a VM name or pattern",
      "builder-*",
    ],
    [
      "no sources",
      { name: "ci", role: "operator", sources: [] },
      "--sources gives 0 patterns",
      "leave it out for any source",
    ],
    [
      "a quota of 0",
      { name: "ci", role: "operator", maxVms: 0 },
      "--max-vms 0 is not a VM quota",
      "from 1 to 10000",
    ],
  ];
  for (const [what, request, message, hint] of bad)
    it(`refuses ${what} (65) and writes nothing`, async () => {
      await t().ca.init();
      const before = filesWithModes(join(t().stateDir, "ca"));
      const err = await refusal(t().ca.issue(request));
      expect([err.code, err.exitCode, err.message]).toEqual(["bad_input", 65, message]);
      expect(err.hint).toContain(hint);
      expect(filesWithModes(join(t().stateDir, "ca"))).toEqual(before);
      expect(t().ca.list().certificates).toEqual([]);
    });

  it("refuses a certificate that would outlive the CA", async () => {
    await t().ca.init();
    t().clockDays = 3400;
    const err = await refusal(t().ca.issue({ name: "ci", role: "reader" }));
    expect(err.message).toMatch(
      /^a certificate of 365 days would outlive farmd's CA \(valid until /,
    );
    expect(err.hint).toMatch(/^give --days 2\d\d or fewer$/);
    expect(t().ca.list().certificates).toEqual([]);
  });
});

describe("ca revoke", () => {
  it("marks the name's certificate revoked; a second revoke finds none", async () => {
    await t().ca.init();
    const { record } = await t().ca.issue({ name: "ci", role: "operator" });
    await t().ca.issue({ name: "other", role: "reader" });
    const [revoked] = t().ca.revoke("ci");
    expect(revoked).toEqual({ ...record, revokedAt: expect.any(String) });
    expect(
      t()
        .ca.list()
        .certificates.map((c) => [c.name, c.revokedAt !== null]),
    ).toEqual([
      ["ci", true],
      ["other", false],
    ]);
    const err = await refusal(Promise.resolve().then(() => t().ca.revoke("ci")));
    expect([err.code, err.exitCode]).toEqual(["not_found", 65]);
    expect(err.message).toBe("no unrevoked certificate named 'ci'");
    expect(err.hint).toContain("farmctl ca list");
  });
});
