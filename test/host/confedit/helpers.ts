// Shared by the confedit tests: the seed's gallifrey-dev entry, the host01 fixture tree, temp dirs
// and a check for the real checkers' binaries.
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { VmEntry } from "../../../src/host/confedit/entry.js";

export const DEV: VmEntry = {
  name: "gallifrey-dev",
  group: "xivo",
  fqdn: "gallifrey-dev.xivo.vm.farm",
  zoneName: "gallifrey-dev.xivo.vm",
  ip: "10.10.60.6",
  mac: "52:54:86:b3:3f:10",
  sshPort: 22006,
  netmask: "255.255.255.0",
  shorewallParam: "VM_GALLIFREY_DEV_XIVO",
  publicAddress: "$IP_FAILOVER",
  webName: "gallifrey-dev.dachary.org",
};

export const FIXTURE = fileURLToPath(new URL("../../fixtures/host01/", import.meta.url));

/** A file of the seed-style host01 tree, e.g. fixture("etc/bind/db.farm"). */
export function fixture(rel: string): string {
  return readFileSync(join(FIXTURE, rel), "utf8");
}

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "farmctl-confedit-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Whether an executable is on PATH, where the runner will look for it. */
export function hasBinary(name: string): boolean {
  const dirs = (process.env.PATH ?? "").split(delimiter);
  return dirs.some((d) => {
    try {
      accessSync(join(d, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Title suffix that says why a real-checker suite was skipped. */
export function skipNote(...bins: string[]): string {
  const missing = bins.filter((b) => !hasBinary(b));
  if (missing.length)
    console.warn(`SKIPPED real-checker tests: ${missing.join(", ")} not installed`);
  return missing.length ? ` (SKIPPED: ${missing.join(", ")} not installed)` : "";
}
