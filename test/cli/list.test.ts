// `farmctl list -o`: the field names are the JSON keys, and -o picks them for the table and --json.
import { describe, expect, it } from "vitest";
import { LIST_FIELDS } from "../../src/api/inventory.js";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
const farmctl = (...args: string[]) => sim.farmctl(...args);

describe("farmctl list -o", () => {
  it("--json without -o gives every field, named as -o names them", async () => {
    const r = await farmctl("list", "--json");
    expect(r.exitCode).toBe(0);
    const { vms } = JSON.parse(r.stdout) as { vms: Record<string, unknown>[] };
    expect(vms.map((v) => v.name)).toContain("gallifrey");
    expect(Object.keys(vms[0]!).sort()).toEqual([...LIST_FIELDS].sort());
  });

  it("applies to --json: only the keys asked for, in that order", async () => {
    const r = await farmctl("list", "-o", "name,ip,sshPort", "--json");
    expect(r.exitCode).toBe(0);
    const { vms } = JSON.parse(r.stdout) as { vms: Record<string, unknown>[] };
    const gallifrey = vms.find((v) => v.name === "gallifrey")!;
    expect(Object.keys(gallifrey)).toEqual(["name", "ip", "sshPort"]);
    expect(gallifrey.ip).toMatch(/^10\.10\.60\.\d+$/);
  });

  it("names the table's columns with the same fields", async () => {
    const r = await farmctl("list", "-o", "name,ip,webName");
    expect(r.exitCode).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split("\n");
    expect(header!.split(/\s+/)).toEqual(["NAME", "IP", "WEB"]);
    expect(rows.find((l) => l.startsWith("gallifrey "))).toContain("gallifrey.dachary.org");
  });

  it("refuses an unknown field with exit 64, the likely one and the list", async () => {
    const r = await farmctl("list", "-o", "name,ssh_port");
    expect(r.exitCode).toBe(64);
    expect(r.stderr).toContain("unknown field 'ssh_port' for -o; did you mean 'sshPort'?");
    expect(r.stderr).toContain(`fields: ${LIST_FIELDS.join(",")}`);
    const typo = await farmctl("list", "-o", "nmae", "--json");
    expect(typo.exitCode).toBe(64);
    expect(JSON.parse(typo.stdout).error.message).toContain("did you mean 'name'?");
    const far = await farmctl("list", "-o", "colour");
    expect(far.exitCode).toBe(64);
    expect(far.stderr).not.toContain("did you mean");
  });
});
