// Figure "concurrency" (issue 8): 16 clones of gallifrey asked of the testbed's farmd at once, each
// started with 256 MiB (the [balloon] min, and enough for the test guest). Checked with tools
// independent of farmd: dig, gnt-instance, the shorewall rules, each service's own checker, and
// each guest's serial console; then all 16 destroyed at once and the host is as it was.
import { freemem } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instances, serialLine } from "../e2e/helpers.js";
import { api, FINAL, health, operations, settled } from "./api.js";
import { differences, fingerprint, sharedTestbed, type Fingerprint } from "./shared.js";
import type { OperationRecord } from "../../src/api/operations.js";

const COUNT = 16;
const MEMORY = "256M";
const NAMES = Array.from({ length: COUNT }, (_, i) => `conc-${String(i + 1).padStart(2, "0")}`);
const fqdn = (name: string) => `${name}.xivo.vm.farm`;
const mib = (bytes: number) => Math.floor(bytes / 2 ** 20);

/** Asks farmd for every request at once; resolves when all have ended. */
async function allAtOnce(path: string, bodies: object[]): Promise<OperationRecord[]> {
  const tb = sharedTestbed();
  const replies = await Promise.all(bodies.map((b) => api(tb, "POST", path, JSON.stringify(b))));
  for (const r of replies) if (r.status !== 202) throw new Error(`${path}: ${r.status} ${r.body}`);
  // 16 TCG guests on a small machine: a clone may take many minutes in the queue
  return Promise.all(replies.map((r) => settled(tb, r.json.opId, undefined, 1_400_000)));
}

describe("concurrency", () => {
  const tb = sharedTestbed();
  let before: Fingerprint;
  let clones: OperationRecord[] = [];
  let addresses = new Map<string, string>();

  beforeAll(async () => {
    before = await fingerprint(tb);
    const free = freemem();
    const t0 = Date.now();
    clones = await allAtOnce(
      "/v1/clone",
      NAMES.map((name) => ({
        request: { source: "gallifrey", name, memory: MEMORY, balloon: MEMORY },
      })),
    );
    console.log(
      `${COUNT} clones at once took ${Date.now() - t0} ms; free RAM ${mib(free)} MiB before, ${mib(freemem())} MiB with them running`,
    );
  }, 1_500_000);

  // A run stopped half-way still leaves nothing for the next figure.
  afterAll(async () => {
    // let every clone end first: a destroy racing its own clone proves nothing here
    const open = (await operations(tb)).filter(
      (o) => NAMES.includes(o.target) && !FINAL.has(o.state),
    );
    await Promise.all(open.map((o) => settled(tb, o.id, undefined, 1_400_000)));
    const left = (await api(tb, "GET", "/v1/vms")).json.vms.map((v: { name: string }) => v.name);
    await allAtOnce(
      "/v1/destroy",
      NAMES.filter((n) => left.includes(n)).map((name) => ({ request: { name } })),
    );
  }, 1_800_000);

  it(`all ${COUNT} clones succeed`, () => {
    const failed = clones.filter((o) => o.state !== "succeeded");
    expect(failed.map((o) => `${o.target} ${o.state} ${JSON.stringify(o.error)}`)).toEqual([]);
    expect(clones.map((o) => o.target).sort()).toEqual(NAMES);
  });

  it(`${COUNT} distinct addresses in the subnet, resolved by named`, async () => {
    for (const name of NAMES) {
      const ip = (await tb.run(["dig", "+short", "@10.10.60.1", fqdn(name)])).trim();
      addresses.set(name, ip);
    }
    const ips = [...addresses.values()];
    for (const ip of ips) expect(ip).toMatch(/^10\.10\.60\.\d+$/);
    expect(new Set(ips).size).toBe(COUNT);
    // none of the host's own: router, cluster IP, gallifrey
    for (const taken of ["10.10.60.1", "10.10.60.2", "10.10.60.5"])
      expect(ips).not.toContain(taken);
  });

  it(`${COUNT} distinct MACs, each running in Ganeti with ${MEMORY}`, async () => {
    const mine = (await instances(tb)).filter((i) => NAMES.some((n) => i.name === fqdn(n)));
    expect(mine).toHaveLength(COUNT);
    for (const i of mine) {
      expect(i.status).toBe("running");
      expect(i.memoryMiB).toBe(256);
      expect(i.macs).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
    }
    const macs = [...mine.map((i) => i.macs), "52:54:2b:9e:41:07"];
    expect(new Set(macs).size).toBe(COUNT + 1);
  });

  it(`${COUNT} distinct SSH ports, DNATed to each address in the shorewall rules`, () => {
    const rules = tb.readFile("/etc/shorewall/rules");
    const params = tb.readFile("/etc/shorewall/params");
    const ports: number[] = [];
    for (const name of NAMES) {
      const param = `VM_${name.replace(/-/g, "_").toUpperCase()}_XIVO`;
      expect(params).toMatch(
        new RegExp(`^${param}=${addresses.get(name)?.replace(/\./g, "\\.")}$`, "m"),
      );
      const m = new RegExp(`^DNAT\\s+net\\s+loc:\\$${param}:22\\s+tcp\\s+(\\d+)\\s`, "m").exec(
        rules,
      );
      expect(m, `${param} in the rules`).not.toBeNull();
      ports.push(Number(m![1]));
    }
    expect(new Set([...ports, 22005]).size).toBe(COUNT + 1);
  });

  it("named-checkzone, dhcpd -t, nginx -t and shorewall check accept the files", async () => {
    await tb.run(["named-checkzone", "-k", "fail", "farm", "/etc/bind/db.farm"]);
    await tb.run(["dhcpd", "-t", "-4", "-cf", "/etc/dhcp/dhcpd.conf"]);
    await tb.run(["nginx", "-t"]);
    await tb.run(["shorewall", "check"], { timeoutMs: 120_000 });
  }, 180_000);

  it("every guest got its own address by DHCP (its serial console)", async () => {
    const leases = await Promise.all(
      NAMES.map((n) => serialLine(tb, fqdn(n), /^STATUS ip=\d/, 300_000)),
    );
    NAMES.forEach((n, i) =>
      expect(leases[i]).toMatch(
        new RegExp(`^STATUS ip=${addresses.get(n)?.replace(/\./g, "\\.")} `),
      ),
    );
  }, 400_000);

  it(`all ${COUNT} destroyed at once, and the host is as it was before the clones`, async () => {
    const made = clones.filter((o) => o.state === "succeeded").map((o) => o.target);
    const destroys = await allAtOnce(
      "/v1/destroy",
      made.map((name) => ({ request: { name } })),
    );
    expect(
      destroys.filter((o) => o.state !== "succeeded").map((o) => `${o.target} ${o.state}`),
    ).toEqual([]);
    expect(differences(before, await fingerprint(tb))).toEqual([]);
    expect((await health(tb)).ok).toBe(true);
  }, 900_000);
});
