// farmctl as a user runs it: the built binary, its exit codes, its messages, its JSON.
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FARMCTL as BIN, farmctl as run, startFarmd, type FarmdProcess } from "./farmd-process.js";

let farmd: FarmdProcess;
let dir: string;
beforeAll(async () => {
  farmd = await startFarmd();
  dir = farmd.dir;
});
afterAll(() => farmd.stop());

const farmctl = (...args: string[]) => run(farmd.config, ...args);

describe("farmctl clone (through a real farmd)", () => {
  it("names the problem and the fix for a bad name, exit 65, before any query to the host", async () => {
    const r = await farmctl("clone", "gallifrey", "Gallifrey_Dev");
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain(
      "farmctl: VM name 'Gallifrey_Dev' is not a valid name: it has uppercase letters",
    );
    expect(r.stderr).toContain("use lowercase letters, digits and '-'");
  });

  it("refuses a MAC outside 52:54 and a size that is not one", async () => {
    expect(
      (await farmctl("clone", "gallifrey", "dev", "--mac", "00:16:3e:00:00:01")).stderr,
    ).toContain("not a 52:54 MAC");
    expect((await farmctl("clone", "gallifrey", "dev", "--memory", "lots")).stderr).toContain(
      "--memory 'lots' is not a size",
    );
    expect((await farmctl("clone", "gallifrey", "dev", "--ip", "10.10.99.1")).stderr).toContain(
      "outside the farm subnet 10.10.60.0/24",
    );
    const port = await farmctl("clone", "gallifrey", "dev", "--ssh-port", "22");
    expect(port.exitCode).toBe(65);
    expect(port.stderr).toContain(
      "SSH port 22 is outside the range farmctl forwards ([firewall] ssh_ports 22000-22255)",
    );
  });

  it("balloon refuses a size below [balloon] min before asking the host", async () => {
    const r = await farmctl("balloon", "gallifrey", "128M");
    expect(r.exitCode).toBe(65);
    expect(r.stderr).toContain(
      "farmctl: SIZE 128M is below the smallest balloon allowed ([balloon] min 256M)",
    );
  });

  it("prints one JSON document with a stable error code", async () => {
    const r = await farmctl("clone", "gallifrey", "-bad", "--json");
    expect(r.exitCode).toBe(2); // commander takes "-bad" for an option
    const j = await farmctl("clone", "gallifrey", "9lives", "--json");
    expect(j.exitCode).toBe(65);
    expect(JSON.parse(j.stdout)).toMatchObject({
      ok: false,
      error: { code: "bad_input", message: expect.stringContaining("starts with a digit") },
    });
  });

  it("exits 2 on usage errors", async () => {
    expect((await farmctl("clone", "gallifrey")).exitCode).toBe(2);
    expect((await farmctl("frobnicate")).exitCode).toBe(2);
  });

  it("exits 78 naming file and key for an invalid farmd.toml", async () => {
    const bad = join(dir, "bad.toml");
    writeFileSync(bad, "[lvm]\nvg = 3\n");
    const r = await execa("node", [BIN, "clone", "gallifrey", "dev", "--config", bad], {
      reject: false,
    });
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toContain(`${bad}: invalid configuration: lvm.vg`);
  });
});

describe("farmctl without farmd", () => {
  it("says farmd is not running, names the socket and how to start it, exit 69", async () => {
    const config = join(dir, "nofarmd.toml");
    writeFileSync(config, `socket = "${dir}/nobody.sock"\n`);
    const r = await run(config, "clone", "gallifrey", "gallifrey-dev");
    expect(r.exitCode).toBe(69);
    expect(r.stderr).toContain(`farmctl: farmd is not running (no answer on ${dir}/nobody.sock)`);
    expect(r.stderr).toContain("systemctl start farmd");
  });
});

describe("a clone refused at preflight", () => {
  // This farmd's host has no Ganeti cluster (or not its tools): every clone is refused at preflight.
  it.each([[], ["--dry-run"]])(
    "prints its error once and leaves no operation %s",
    async (...flags: string[]) => {
      const r = await farmctl("clone", "gallifrey", "gallifrey-dev", ...flags);
      expect([65, 69]).toContain(r.exitCode);
      expect(r.stderr.match(/^farmctl: /gm)).toHaveLength(1);
      expect(r.stderr).not.toContain("FAILED");
      expect(r.stdout).toBe("");
      const list = await farmctl("ops", "--json");
      expect(JSON.parse(list.stdout)).toEqual({ ok: true, operations: [] });
    },
  );
});

describe("farmctl ops", () => {
  it("lists no operations on a new farmd, and names an unknown one", async () => {
    const list = await farmctl("ops", "--json");
    expect(JSON.parse(list.stdout)).toEqual({ ok: true, operations: [] });
    const one = await farmctl("ops", "nosuch");
    expect(one.exitCode).toBe(65);
    expect(one.stderr).toContain("no operation 'nosuch'");
  });
});
