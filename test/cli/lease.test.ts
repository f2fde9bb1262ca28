// The built farmctl with leases: clone --lease, renew, list -o expires, show; against a farmd
// over the simulated host01.
import { describe, expect, it } from "vitest";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
const farmctl = (...args: string[]) => sim.farmctl(...args);
const HOUR = 3_600_000;
/** "1h59m left (2026-12-02 19:41:07 UTC)": the time left and the date. */
const expiry = (left: string) => `${left} left \\(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC\\)`;

describe("farmctl and leases", () => {
  it("clone --lease prints when the lease ends; list -o expires and show print it too", async () => {
    const clone = await farmctl("clone", "gallifrey", "builder-1", "--lease", "2h");
    expect(clone.exitCode, clone.stderr).toBe(0);
    expect(clone.stdout).toMatch(new RegExp(`\\n  expires   ${expiry("1h59m")}\\n`));

    const list = await farmctl("list", "-o", "name,expires");
    expect(list.exitCode).toBe(0);
    const [header, ...rows] = list.stdout.trimEnd().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "EXPIRES"]);
    expect(rows.find((r) => r.startsWith("builder-1 "))).toMatch(
      new RegExp(`^builder-1\\s+${expiry("1h59m")}$`),
    );
    expect(rows.find((r) => r.startsWith("gallifrey "))).toMatch(/^gallifrey\s+-$/);

    const json = JSON.parse((await farmctl("list", "-o", "name,expires", "--json")).stdout) as {
      vms: Record<string, string | null>[];
    };
    const row = json.vms.find((v) => v.name === "builder-1")!;
    expect(Object.keys(row)).toEqual(["name", "expiresAt"]);
    expect(Date.parse(row.expiresAt!)).toBeGreaterThan(Date.now() + HOUR);

    const show = await farmctl("show", "builder-1");
    expect(show.stdout).toMatch(new RegExp(`\\n  expires   ${expiry("1h59m")}\\n`));
    const showJson = JSON.parse((await farmctl("show", "builder-1", "--json")).stdout);
    expect(showJson.vm.expiresAt).toBe(row.expiresAt);
    expect((await farmctl("show", "gallifrey")).stdout).toContain("\n  expires   - (no lease)\n");
  });

  it("renew prints the new expiry; --json gives it as ISO 8601", async () => {
    const r = await farmctl("renew", "builder-1", "3h");
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^renewed the lease of builder-1: ${expiry("2h59m")}$`));
    const j = await farmctl("renew", "builder-1", "90m", "--json");
    expect(j.exitCode).toBe(0);
    const doc = JSON.parse(j.stdout) as {
      ok: boolean;
      result: { name: string; expiresAt: string; previousExpiresAt: string };
    };
    expect(doc.ok).toBe(true);
    expect(doc.result.name).toBe("builder-1");
    expect(Date.parse(doc.result.expiresAt)).toBeLessThanOrEqual(Date.now() + 1.5 * HOUR);
    expect(Date.parse(doc.result.previousExpiresAt)).toBeGreaterThan(Date.now() + 2.9 * HOUR);
    const show = JSON.parse((await farmctl("show", "builder-1", "--json")).stdout);
    expect(show.vm.expiresAt).toBe(doc.result.expiresAt);
  });

  it("refuses bad durations with exit 65, the problem and how to write one", async () => {
    const bare = await farmctl("renew", "builder-1", "2");
    expect(bare.exitCode).toBe(65);
    expect(bare.stderr).toBe(
      'farmctl: lease "2" is not a duration (a number needs a unit)\n' +
        "  write it as a whole number with a unit (s, m, h, d or w), like 2h, 90m or 30d",
    );
    const long = await farmctl("clone", "gallifrey", "builder-2", "--lease", "31d");
    expect(long.exitCode).toBe(65);
    expect(long.stderr).toContain("farmctl: lease 31d is longer than [leases] max (30d)\n");
    const json = await farmctl("renew", "builder-1", "soon", "--json");
    expect(json.exitCode).toBe(65);
    expect(JSON.parse(json.stdout).error).toMatchObject({
      code: "bad_input",
      message: 'lease "soon" is not a duration',
    });
    const noLease = await farmctl("renew", "gallifrey", "2h");
    expect(noLease.exitCode).toBe(65);
    expect(noLease.stderr).toContain("farmctl: no VM 'gallifrey' in farmctl's inventory\n");
    expect((await farmctl("renew", "builder-1")).exitCode).toBe(2);
    expect((await farmctl("list", "--json")).stdout).not.toContain('"builder-2"');
  });
});
