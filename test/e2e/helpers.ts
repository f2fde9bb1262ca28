// What the end-to-end tests share: farmctl inside the testbed's host01.farm, and the host's state
// read with tools independent of farmctl (gnt-instance, lvs, losetup, dig, the files' bytes, the
// guest's serial console, QEMU's monitor).
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { Result, Testbed } from "../testbed/testbed.js";

export const SOURCE = "gallifrey.xivo.vm.farm";
export const TARGET = "gallifrey-dev.xivo.vm.farm";
export const CTRL = "/var/run/ganeti/kvm-hypervisor/ctrl";
export const CONFIG_DIRS = ["/etc/bind", "/etc/dhcp", "/etc/nginx", "/etc/shorewall"];
export const ZONE = "/etc/bind/db.farm";
/** A backstop, not a deadline: e2e tests wait for the state they assert on, however busy the machine. */
export const E2E_TEST_MS = 300_000;

export interface Instance {
  name: string;
  status: string;
  memoryMiB: number;
  macs: string;
  diskSizes: string;
}

export interface Lv {
  name: string;
  uuid: string;
  size: string;
  tags: string;
}

/** Everything a clone may touch: config bytes, LVs, instances, the testbed's loop devices. */
export interface HostState {
  /** path -> sha256 of its bytes, or "link -> target" */
  files: Map<string, string>;
  lvs: Lv[];
  instances: Instance[];
  loops: string[];
  soa: string;
}

/** The built farmctl (testbed.sh's bin/farmctl runs node dist/cli/main.js), inside host01. */
export function farmctl(tb: Testbed, args: string[], timeoutMs = 240_000): Promise<Result> {
  return tb.exec([`${tb.dir}/bin/farmctl`, ...args], { timeoutMs });
}

/** farmctl ... --json, parsed; its exit code must be `exitCode`. */
export async function farmctlJson<T = Record<string, unknown>>(
  tb: Testbed,
  args: string[],
  exitCode = 0,
): Promise<T> {
  const r = await farmctl(tb, [...args, "--json"]);
  if (r.exitCode !== exitCode)
    throw new Error(
      `farmctl ${args.join(" ")} --json exited ${r.exitCode}, not ${exitCode}:\n${r.stdout}${r.stderr}`,
    );
  return JSON.parse(r.stdout) as T;
}

/** The line testbed.sh wrote at the start of gallifrey's disk. */
export function readMarker(tb: Testbed): string {
  return readFileSync(`${tb.dir}/gallifrey.marker`, "utf8").trim();
}

/** Where build-disk.sh puts gallifrey's ext4 root: sector 2048. */
export const PARTITION_OFFSET = 1024 * 1024;

/**
 * Throws unless LV `dst` holds a copy of LV `src`'s guest disk. Both guests may have booted from
 * them, mounting their ext4 root read-write (its superblock and journal stamped): the first MiB
 * (marker, MBR, partition table) is compared byte for byte, the partition file by file as debugfs
 * reads it (`rdump` into the scratch dir, then `diff -r`).
 */
export async function expectSameGuestDisk(tb: Testbed, src: string, dst: string): Promise<void> {
  await tb.run(["cmp", "-n", String(PARTITION_OFFSET), `/dev/all/${src}`, `/dev/all/${dst}`]);
  const dirs = [`${tb.dir}/rdump-${src}`, `${tb.dir}/rdump-${dst}`] as const;
  try {
    for (const [lv, dir] of [
      [src, dirs[0]],
      [dst, dirs[1]],
    ]) {
      mkdirSync(dir!);
      // prettier-ignore
      await tb.run([
        "debugfs", "-c", "-R", `rdump / ${dir}`, `/dev/all/${lv}?offset=${PARTITION_OFFSET}`,
      ]);
    }
    if (!readdirSync(dirs[0]).includes("etc"))
      throw new Error(`debugfs found no /etc on /dev/all/${src}`);
    await tb.run(["diff", "-r", "--no-dereference", ...dirs]);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function lvOf(tb: Testbed, instance: string): Promise<string> {
  const info = await tb.run(["gnt-instance", "info", "--static", instance]);
  const lv = /logical_id: all\/(\S+)/.exec(info)?.[1];
  if (!lv) throw new Error(`no logical_id in gnt-instance info ${instance}:\n${info}`);
  return lv;
}

export async function instances(tb: Testbed): Promise<Instance[]> {
  // prettier-ignore
  const out = await tb.run([
    "gnt-instance", "list", "--no-headers", "--separator=|", "--units=m",
    "-o", "name,status,be/memory,nic.macs,disk.sizes",
  ]);
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name = "", status = "", mem = "", macs = "", diskSizes = ""] = l.split("|");
      return { name, status, memoryMiB: Number(mem), macs, diskSizes };
    });
}

export async function lvs(tb: Testbed): Promise<Lv[]> {
  // prettier-ignore
  const out = await tb.run([
    "lvs", "--noheadings", "--separator=|", "--units=b", "--nosuffix",
    "-o", "lv_name,lv_uuid,lv_size,lv_tags", "all",
  ]);
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name = "", uuid = "", size = "", tags = ""] = l.trim().split("|");
      return { name, uuid, size, tags };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Every file and symlink of the four services' config dirs, found with find inside host01. */
export async function configPaths(tb: Testbed): Promise<string[]> {
  const list = await tb.run(["find", ...CONFIG_DIRS, "(", "-type", "f", "-o", "-type", "l", ")"]);
  return list.trim().split("\n").filter(Boolean).sort();
}

/** The texts of the config files (symlinks left out), to compare line by line or byte for byte. */
export async function configTexts(tb: Testbed): Promise<Map<string, string>> {
  const texts = new Map<string, string>();
  for (const path of await configPaths(tb)) {
    try {
      tb.readlink(path);
    } catch {
      texts.set(path, tb.readFile(path));
    }
  }
  return texts;
}

export async function hostState(tb: Testbed): Promise<HostState> {
  const files = new Map<string, string>();
  for (const path of await configPaths(tb)) {
    let v: string;
    try {
      v = `link -> ${tb.readlink(path)}`;
    } catch {
      v = createHash("sha256").update(tb.readFile(path)).digest("hex");
    }
    files.set(path, v);
  }
  const loops = (await tb.run(["losetup", "-l", "-n", "-O", "NAME,OFFSET,SIZELIMIT,BACK-FILE"]))
    .trim()
    .split("\n")
    .filter((l) => l.includes(tb.dir))
    .map((l) => l.trim().split(/\s+/).slice(1).join(" ")) // loop numbers may be reused differently
    .sort();
  const soa = (await tb.run(["dig", "+short", "@10.10.60.1", "SOA", "farm"])).trim();
  return { files, lvs: await lvs(tb), instances: await instances(tb), loops, soa };
}

/** The state with the zone file and its SOA serial left out: compared after an undo, which bumps it. */
export function serialAside(state: HostState): HostState {
  const files = new Map([...state.files].filter(([path]) => path !== ZONE));
  return { ...state, files, soa: state.soa.replace(/^(\S+ \S+) \d+ /, "$1 <serial> ") };
}

/** before's lines appear in after, in order (after may have more). */
export function linesKept(before: string, after: string): string[] {
  const missing: string[] = [];
  const rest = after.split("\n");
  let i = 0;
  for (const line of before.split("\n")) {
    const j = rest.indexOf(line, i);
    if (j < 0) missing.push(line);
    else i = j + 1;
  }
  return missing;
}

/** The zone's SOA serial, as written in the file (`NNN ; Serial`). */
export function zoneSerial(text: string): number {
  const m = /^\s*(\d+)\s*;\s*Serial/m.exec(text);
  if (!m) throw new Error(`no '; Serial' line in the zone:\n${text}`);
  return Number(m[1]);
}

/** The text with its serial line blanked out, to compare the rest of a zone byte for byte. */
export function withoutSerial(text: string): string {
  return text.replace(/^\s*\d+\s*;\s*Serial.*$/m, "<serial>");
}

/** farmctl's marked block for `fqdn` in a file's text, markers included ("" when absent). */
export function farmctlBlock(text: string, fqdn: string): string {
  const lines = text.split("\n");
  const begin = lines.findIndex((l) => / farmctl begin (\S+)$/.exec(l)?.[1] === fqdn);
  if (begin < 0) return "";
  const end = lines.findIndex((l, i) => i > begin && / farmctl end (\S+)$/.exec(l)?.[1] === fqdn);
  if (end < 0) throw new Error(`farmctl's block for ${fqdn} has no end marker:\n${text}`);
  return lines.slice(begin, end + 1).join("\n") + "\n";
}

/** The text with farmctl's two marker lines for `fqdn` taken out (what is between them stays). */
export function withoutMarkers(text: string, fqdn: string): string {
  return text
    .split("\n")
    .filter((l) => / farmctl (begin|end) (\S+)$/.exec(l)?.[2] !== fqdn)
    .join("\n");
}

/** Reads the guest's serial console (no history: the guest repeats STATUS every 2 s). */
export async function serialLine(tb: Testbed, instance: string, re: RegExp, timeoutMs: number) {
  const lines = await serialLines(tb, instance, re, timeoutMs);
  return lines.find((l) => re.test(l))!;
}

/** Every line of the first 5 s read of the console in which a line matches `re`. */
export async function serialLines(
  tb: Testbed,
  instance: string,
  re: RegExp,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let seen = "";
  while (Date.now() < deadline) {
    // prettier-ignore
    const r = await tb.exec([
      "timeout", "5", "socat", "-u", `UNIX-CONNECT:${CTRL}/${instance}.serial`, "-",
    ], { timeoutMs: 10_000 });
    seen = r.stdout.replace(/\r/g, "");
    const lines = seen.split("\n");
    if (lines.some((l) => re.test(l))) return lines;
  }
  throw new Error(`no ${re} on ${instance}'s serial console; last seen:\n${seen.slice(-1500)}`);
}

export async function hmp(tb: Testbed, instance: string, command: string): Promise<string> {
  const out = await tb.run(["socat", "-t2", "-", `UNIX-CONNECT:${CTRL}/${instance}.monitor`], {
    input: `${command}\n`,
  });
  // HMP echoes the command with readline escapes: keep the reply lines only.
  return out
    .replace(/\r/g, "")
    .split("\n")
    .map((l) => l.replace(/.*\x1b\[K/, ""))
    .filter((l) => l && !l.startsWith("QEMU ") && !l.startsWith("(qemu)"))
    .join("\n");
}

/** Thrown from a retry's fn: stop polling at once (the condition can no longer come true). */
export class Fatal extends Error {}

/**
 * Polls fn every `everyMs` until it returns non-null; throws after timeoutMs with the last error
 * (errors are taken as transient, except Fatal, which is thrown at once).
 */
export async function retry<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | null>,
  everyMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Writes a file inside host01 (through cat, so it lands where host01 sees it). */
export async function writeInside(tb: Testbed, path: string, text: string): Promise<void> {
  await tb.run(["sh", "-c", 'cat > "$0"', path], { input: text });
}

/**
 * A farmd.toml for another farmd: the testbed's own, changed by `edit`, with its state dir and
 * socket replaced, then `extra` (TOML tables) appended. Returns its path inside.
 */
export async function farmdConfig(
  tb: Testbed,
  name: string,
  o: { stateDir: string; socket: string; extra?: string; edit?: (toml: string) => string },
): Promise<string> {
  const testbed = tb.readFile("/etc/farmd/farmd.toml");
  const base = o.edit ? o.edit(testbed) : testbed;
  const toml =
    base.replace(/^state_dir = .*$/m, `state_dir = "${o.stateDir}"\nsocket = "${o.socket}"`) +
    (o.extra ? `\n${o.extra}\n` : "");
  const path = `/etc/farmd/${name}.toml`;
  await writeInside(tb, path, toml);
  return path;
}

/** Whether a PID (outside view: the testbed has no PID namespace) runs and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

/** The PIDs whose parent is `ppid` (from /proc/<pid>/stat), with their command lines. */
export function children(ppid: number): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${p}/stat`, "utf8");
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent === ppid) out.push({ pid: Number(p), argv: cmdline(Number(p)) });
  }
  return out;
}

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
  } catch {
    return [];
  }
}
