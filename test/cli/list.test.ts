// `farmctl list -o`: the field names are the JSON keys, and -o picks them for the table and --json.
import { describe, expect, it } from "vitest";
import { LIST_FIELDS } from "../../src/api/inventory.js";
import { devMember } from "../ops/farm-member.js";
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

describe("the guest's identity", () => {
  it("show prints its hostname, machine-id and host key fingerprints; list -o and --json carry them", async () => {
    const clone = await farmctl("clone", "gallifrey", "gallifrey-dev");
    expect(clone.exitCode).toBe(0);
    // The simulated guest printed test/recordings/ssh-keygen-9.2-firstboot-console.txt.
    expect(clone.stdout).toContain(
      "  host key   256 SHA256:LQynFYNCzMaUiRTdQRYIuxAUsJJAAbgHYXf4ka8mO/o root@vm (ED25519)\n",
    );
    const show = await farmctl("show", "gallifrey-dev");
    expect(show.stdout).toContain(
      [
        "guest:",
        "  hostname   vm",
        "  machine-id 7e0b6b73a97347c4b8fdd04224408168",
        "  host key   256 SHA256:Ag+vWBL2lSCooN5gxkZB6ypgGMuTVusP2SpC7p9ODj4 root@vm (ECDSA)",
        "  host key   256 SHA256:LQynFYNCzMaUiRTdQRYIuxAUsJJAAbgHYXf4ka8mO/o root@vm (ED25519)",
        "  host key   3072 SHA256:E+EMi7hN4Rs4mtppIjXGuhGmvUm1P5yEWNv1qM7qFqw root@vm (RSA)",
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await farmctl("show", "gallifrey-dev", "--json")).stdout);
    expect(json.vm).toMatchObject({
      hostname: "vm",
      machineId: "7e0b6b73a97347c4b8fdd04224408168",
    });
    expect(json.sshHostKeys[2]).toEqual({
      bits: 3072,
      fingerprint: "SHA256:E+EMi7hN4Rs4mtppIjXGuhGmvUm1P5yEWNv1qM7qFqw",
      comment: "root@vm",
      type: "RSA",
    });
    // The hand-made source's guest is unknown: dashes.
    expect((await farmctl("show", "gallifrey")).stdout).toContain(
      "guest:\n  hostname   -\n  machine-id -\n  host keys  -\n",
    );
    const list = await farmctl("list", "-o", "name,hostname,machineId");
    const rows = list.stdout.trimEnd().split("\n");
    expect(rows[0]!.split(/\s+/)).toEqual(["NAME", "HOSTNAME", "MACHINE_ID"]);
    expect(rows.find((l) => l.startsWith("gallifrey "))!.split(/\s+/)).toEqual([
      "gallifrey",
      "-",
      "-",
    ]);
    expect(rows.find((l) => l.startsWith("gallifrey-dev "))!.split(/\s+/)).toEqual([
      "gallifrey-dev",
      "vm",
      "7e0b6b73a97347c4b8fdd04224408168",
    ]);
  });
});

describe("a farm's member", () => {
  it("show names its farm, member and variables; list -o farm,member carries them", async () => {
    // A member as `farm up` makes it (farmd's own clone request; the public body refuses `farm`).
    await sim.h.destroy({ name: "gallifrey-dev" });
    const farm = devMember({ release: "3.2.0", note: "two words" });
    await sim.h.clone({ vars: farm.spec.vars, farm });
    const show = (await farmctl("show", "gallifrey-dev")).stdout;
    expect(show).toContain(
      '  farm      rel-3-2 (member dev)\n  vars      note="two words" release=3.2.0\n',
    );
    expect((await farmctl("show", "gallifrey")).stdout).toContain("  farm      -\n  vars      -\n");
    const json = JSON.parse((await farmctl("show", "gallifrey-dev", "--json")).stdout);
    expect(json.vars).toEqual(farm.spec.vars);
    expect(json.vm).toMatchObject({ farm: "rel-3-2", member: "dev" });
    const rows = (await farmctl("list", "-o", "name,farm,member")).stdout.trimEnd().split("\n");
    expect(rows.map((l) => l.split(/\s+/))).toEqual([
      ["NAME", "FARM", "MEMBER"],
      ["gallifrey", "-", "-"],
      ["gallifrey-dev", "rel-3-2", "dev"],
    ]);
  });
});
