// The first-boot script as the guest runs it, with the real ssh-keygen, in a private mount
// namespace whose /etc/ssh, /dev/console and /etc/machine-id are stand-ins: what it prints is what
// parseFirstBoot reads.
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config/load.js";
import { Templates } from "../../../src/host/templates.js";
import { parseFirstBoot } from "../../../src/ops/guest/firstboot.js";
import { planGuest } from "../../../src/ops/guest/plan.js";
import type { GuestEdit } from "../../../src/ops/ports.js";
import { VM } from "./vm.js";

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

const MACHINE_ID = "0123456789abcdef0123456789abcdef";

describe("farm-firstboot, run for real", () => {
  it("makes host keys and prints their fingerprints and the machine-id as parseFirstBoot reads them", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-firstboot-"));
    const plan = planGuest({
      config: parseConfig('[guest]\ncustomize = ["ssh-host-keys"]', "f").guest,
      templates: new Templates("/nonexistent/farmd-templates"),
      vm: VM,
      vars: {},
      os: null,
    });
    const script = plan.edits.find(
      (e): e is Extract<GuestEdit, { op: "write" }> => e.op === "write" && e.mode === 0o755,
    )!;
    writeFileSync(join(dir, "farm-firstboot"), script.content);
    writeFileSync(join(dir, "console"), "");
    writeFileSync(join(dir, "machine-id"), `${MACHINE_ID}\n`);
    // The stand-ins exist only in this namespace: the host's keys, console and unit links are untouched.
    const setup = [
      "set -e",
      "mount -t tmpfs tmpfs /etc/ssh",
      "mount -t tmpfs tmpfs /etc/systemd/system/multi-user.target.wants",
      `mount --bind ${dir}/console /dev/console`,
      `mount --bind ${dir}/machine-id /etc/machine-id`,
      `sh ${dir}/farm-firstboot`,
    ].join("\n");
    await execa("unshare", ["--mount", "--propagation", "private", "sh", "-s"], { input: setup });
    const console = readFileSync(join(dir, "console"), "utf8");
    const parsed = parseFirstBoot(console)!;
    expect(parsed.machineId).toBe(MACHINE_ID);
    expect(parsed.fingerprints.map((f) => f.type).sort()).toEqual(["ECDSA", "ED25519", "RSA"]);
    for (const f of parsed.fingerprints)
      expect(f.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});
