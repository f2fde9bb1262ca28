// What every reliability cell needs: the run's one testbed, and the host's fingerprint to compare
// before and after (files byte for byte with the zone's serial aside, LVs with their tags,
// instances, loops, and the processes that hold disks or run guests).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { inject } from "vitest";
import { Testbed } from "../testbed/testbed.js";
import { ZONE, configPaths, instances, lvs, withoutSerial } from "../e2e/helpers.js";

/** The testbed brought up by testbed-setup.ts (its down() is left to the setup's teardown). */
export function sharedTestbed(): Testbed {
  return new Testbed(inject("testbedDir"));
}

export interface Fingerprint {
  files: Record<string, string>;
  lvs: string[];
  instances: string[];
  loops: string[];
  processes: string[];
}

/** Commands whose leftovers would be a leak: copies, guests, LVM calls. */
const WATCHED = /^(dd|qemu-system-x86_64|kvm|ionice|lvcreate|lvremove|lvm)$/;

/** The WATCHED processes inside host01's network namespace: PID, command name and argv. */
export function watchedProcesses(tb: Testbed): { pid: number; comm: string; argv: string }[] {
  const ns = readlinkSync(`/proc/${tb.holder()}/ns/net`);
  const found: { pid: number; comm: string; argv: string }[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/ns/net`) !== ns) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (WATCHED.test(comm)) found.push({ pid: Number(pid), comm, argv: argv.join(" ") });
    } catch {
      // gone while we looked
    }
  }
  return found;
}

/** argv of the WATCHED processes inside host01's network namespace. */
export function processes(tb: Testbed): string[] {
  return watchedProcesses(tb)
    .map((p) => p.argv)
    .sort();
}

export async function fingerprint(tb: Testbed): Promise<Fingerprint> {
  const files: Record<string, string> = {};
  for (const path of await configPaths(tb)) {
    try {
      files[path] = `link -> ${tb.readlink(path)}`;
    } catch {
      const text = tb.readFile(path);
      files[path] =
        path === ZONE ? withoutSerial(text) : createHash("sha256").update(text).digest("hex");
    }
  }
  // prettier-ignore
  const loops = (await tb.run(["losetup", "-l", "-n", "-O", "OFFSET,SIZELIMIT,BACK-FILE"]))
    .trim().split("\n").filter((l) => l.includes(tb.dir)).map((l) => l.trim()).sort();
  return {
    files,
    lvs: (await lvs(tb)).map((l) => `${l.name} ${l.uuid} ${l.size} [${l.tags}]`),
    instances: (await instances(tb)).map((i) => `${i.name} ${i.status} ${i.macs} ${i.diskSizes}`),
    loops,
    processes: processes(tb),
  };
}

/** What differs between two fingerprints, one line each; [] when the host is as it was. */
export function differences(before: Fingerprint, after: Fingerprint): string[] {
  const out: string[] = [];
  const paths = new Set([...Object.keys(before.files), ...Object.keys(after.files)]);
  for (const p of [...paths].sort()) {
    if (before.files[p] !== after.files[p]) out.push(`file ${p} changed`);
  }
  for (const key of ["lvs", "instances", "loops", "processes"] as const) {
    for (const x of after[key]) if (!before[key].includes(x)) out.push(`${key} + ${x}`);
    for (const x of before[key]) if (!after[key].includes(x)) out.push(`${key} - ${x}`);
  }
  return out;
}
