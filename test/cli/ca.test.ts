// `farmctl ca ...` (the built binary) against a farmd over the simulated host, with the real openssl.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { simulatedFarmd } from "./simulated-farmd.js";
import { farmctl as farmctlOf, startFarmd } from "./farmd-process.js";

const sim = simulatedFarmd();
const farmctl = (...args: string[]) => sim.farmctl(...args);
let out = "";
beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), "farmctl-ca-"));
});
afterAll(() => rmSync(out, { recursive: true, force: true }));

const caPem = () => readFileSync(join(sim.h.root, "state/ca/ca.pem"), "utf8");
const names = async () =>
  (
    JSON.parse((await farmctl("ca", "list", "--json")).stdout) as {
      certificates: { name: string }[];
    }
  ).certificates.map((c) => c.name);

describe("farmctl ca", () => {
  it("before init: list says so, issue is refused (78) naming `farmctl ca init`", async () => {
    const list = await farmctl("ca", "list");
    expect([list.exitCode, list.stdout]).toEqual([0, "farmd has no CA yet: run `farmctl ca init`"]);
    const issue = await farmctl("ca", "issue", "early", "--role", "reader", "--out", out);
    expect(issue.exitCode).toBe(78);
    expect(issue.stderr).toContain("farmd's CA was never initialised");
    expect(issue.stderr).toContain("run `farmctl ca init`");
    expect(readdirSync(out)).toEqual([]);
  });

  it("init creates the CA once and shows its fingerprint; again, keeps it", async () => {
    const first = await farmctl("ca", "init");
    const fingerprint = new X509Certificate(caPem()).fingerprint256;
    expect([first.exitCode, first.stdout]).toEqual([
      0,
      `created farmd's CA\n  SHA-256 ${fingerprint}`,
    ]);
    const again = await farmctl("ca", "init", "--json");
    expect(JSON.parse(again.stdout)).toEqual({
      ok: true,
      created: false,
      fingerprint,
      caPem: caPem(),
    });
  });

  it("issue writes NAME.key (0600) and NAME.pem (the certificate, then the CA's)", async () => {
    const r = await farmctl(
      "ca",
      "issue",
      "ci-runner",
      "--role",
      "operator",
      "--days",
      "30",
      "--sources",
      "gallifrey,builder-*",
      "--max-vms",
      "2",
      "--out",
      out,
    );
    expect(r.exitCode).toBe(0);
    const key = join(out, "ci-runner.key");
    const pem = readFileSync(join(out, "ci-runner.pem"), "utf8");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(pem.endsWith(caPem())).toBe(true);
    const cert = new X509Certificate(pem);
    expect(cert.checkIssued(new X509Certificate(caPem()))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(readFileSync(key)))).toBe(true);
    const serial = cert.serialNumber.toLowerCase();
    const until = new Date(cert.validTo).toISOString();
    expect(r.stdout).toBe(
      `issued 'ci-runner': operator, serial ${serial}, valid until ${until}\n` +
        `  certificate ${out}/ci-runner.pem (farmd's CA certificate after it)\n` +
        `  key         ${out}/ci-runner.key (mode 0600: give it to ci-runner alone)`,
    );
    // farmd knows it as what it was issued for.
    expect(sim.farmd.ca.verifyPeer(cert)).toMatchObject({
      owner: "cert:ci-runner",
      role: "operator",
      sources: ["gallifrey", "builder-*"],
      maxVms: 2,
    });
    const list = await farmctl("ca", "list");
    expect(list.stdout).toContain(
      "NAME       ROLE      STATUS  EXPIRES     SOURCES              MAX-VMS  SERIAL\n",
    );
    expect(list.stdout).toContain(
      `ci-runner  operator  active  ${until.slice(0, 10)}  gallifrey,builder-*  2        ${serial}`,
    );
  });

  it("refuses a second active certificate of a name (65) and writes nothing", async () => {
    const other = mkdtempSync(join(out, "again-"));
    const r = await farmctl("ca", "issue", "ci-runner", "--role", "admin", "--out", other);
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toMatch(
      /^farmctl: certificate 'ci-runner' is active \(serial [0-9a-f]+, until /,
    );
    expect(r.stderr).toContain("revoke it first: farmctl ca revoke ci-runner");
    expect(readdirSync(other)).toEqual([]);
  });

  it("refuses to overwrite a file (73) before asking farmd for anything", async () => {
    writeFileSync(join(out, "taken.pem"), "mine\n");
    const r = await farmctl("ca", "issue", "taken", "--role", "reader", "--out", out);
    expect(r.exitCode).toBe(73);
    expect(r.stderr).toContain(`${out}/taken.pem exists; it was left as it is`);
    expect(readFileSync(join(out, "taken.pem"), "utf8")).toBe("mine\n");
    expect(await names()).toEqual(["ci-runner"]);
  });

  it("refuses a bad role, days or name (65) with the fix, issuing nothing", async () => {
    const cases: [string[], string, string][] = [
      [
        ["x", "--role", "root"],
        "role 'root' is not a role",
        "give one of: reader, operator, admin",
      ],
      [
        ["x", "--role", "reader", "--days", "ten"],
        "--days 'ten' is not a whole number",
        "give --days like 30",
      ],
      [
        ["x", "--role", "reader", "--days", "0"],
        "0 days is not a validity farmd's CA issues",
        "from 1 to 3650",
      ],
      [["X/y", "--role", "reader"], "certificate name 'X/y' is not valid", "lowercase letters"],
      [
        ["x", "--role", "reader", "--max-vms", "3"],
        "limit an operator, not a reader",
        "--role operator",
      ],
    ];
    for (const [args, message, hint] of cases) {
      const r = await farmctl("ca", "issue", ...args, "--out", out);
      expect(r.exitCode).toBe(65);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain(hint);
    }
    const json = await farmctl("ca", "issue", "x", "--role", "root", "--json", "--out", out);
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: "bad_input", exitCode: 65 });
    expect(readdirSync(out).filter((f) => f.startsWith("x."))).toEqual([]);
    expect(await names()).toEqual(["ci-runner"]);
  });

  it("revoke takes effect at once in the running farmd; a second revoke finds none", async () => {
    const cert = new X509Certificate(readFileSync(join(out, "ci-runner.pem")));
    const r = await farmctl("ca", "revoke", "ci-runner");
    expect([r.exitCode, r.stdout]).toEqual([
      0,
      `revoked 'ci-runner' (serial ${cert.serialNumber.toLowerCase()})`,
    ]);
    expect(() => sim.farmd.ca.verifyPeer(cert)).toThrow(/certificate 'ci-runner' .* is revoked/);
    const list = JSON.parse((await farmctl("ca", "list", "--json")).stdout);
    expect(list.certificates[0]).toMatchObject({ name: "ci-runner", status: "revoked" });
    const again = await farmctl("ca", "revoke", "ci-runner");
    expect(again.exitCode).toBe(65);
    expect(again.stderr).toContain("no unrevoked certificate named 'ci-runner'");
  });
});

describe("the farmd process", () => {
  it("serves its CA from its state directory: init, issue, list", async () => {
    const farmd = await startFarmd();
    try {
      const init = await farmctlOf(farmd.config, "ca", "init");
      expect(init.exitCode).toBe(0);
      const dir = join(farmd.dir, "state/ca");
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      expect(statSync(join(dir, "ca.key")).mode & 0o777).toBe(0o600);
      const issue = await farmctlOf(
        farmd.config,
        "ca",
        "issue",
        "bot",
        "--role",
        "reader",
        "--out",
        farmd.dir,
      );
      expect(issue.exitCode).toBe(0);
      const pem = readFileSync(join(farmd.dir, "bot.pem"), "utf8");
      expect(
        new X509Certificate(pem).checkIssued(
          new X509Certificate(readFileSync(join(dir, "ca.pem"))),
        ),
      ).toBe(true);
      const list = await farmctlOf(farmd.config, "ca", "list");
      expect(list.stdout).toMatch(/^bot +reader +active /m);
    } finally {
      await farmd.stop();
    }
  });
});
