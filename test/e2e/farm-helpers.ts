// What the farm e2e test and the farm benchmark share: a spec written inside host01 (TOML made by
// smol-toml from an object, so a variant is a changed copy), Ganeti's own view of each instance
// (UUID, creation time, tags), and a member's reachability checked with tools independent of farmd.
import { stringify } from "smol-toml";
import { expect } from "vitest";
import type { MemberStatus } from "../../src/api/farm.js";
import type { Testbed } from "../testbed/testbed.js";
import { farmctl, retry, serialLine, writeInside } from "./helpers.js";

/** gallifrey's group and domain: a member cloned from it without `group` lands there. */
export const fqdnOf = (name: string) => `${name}.xivo.vm.farm`;
/** host01's public address (the failover IP): nginx and the members' DNAT ports answer there. */
export const PUBLIC = "198.51.100.42";

/** A farm spec as farmctl-farm(5) lays it out, before smol-toml writes it. */
export interface SpecObject {
  name: string;
  required_vars?: string[];
  vars?: Record<string, string>;
  run?: Record<string, string>;
  defaults?: Record<string, unknown>;
  platforms?: Record<string, Record<string, unknown>>;
  members: Record<string, Record<string, unknown>>;
}

/** Writes the spec inside host01 (the testbed's scratch dir); returns its path. */
export async function writeSpec(tb: Testbed, file: string, spec: SpecObject): Promise<string> {
  const path = `${tb.dir}/${file}`;
  await writeInside(tb, path, stringify(spec as unknown as Record<string, unknown>) + "\n");
  return path;
}

/** A deep copy changed by `edit` (the spec must have every table it edits). */
export function variant(spec: SpecObject, edit: (s: Required<SpecObject>) => void): SpecObject {
  const copy = structuredClone(spec);
  edit(copy as Required<SpecObject>);
  return copy;
}

export interface GanetiInstance {
  name: string;
  uuid: string;
  ctime: string;
  memoryMiB: number;
  tags: string[];
}

/** gnt-instance list's view of every instance, by FQDN. */
export async function ganetiInstances(tb: Testbed): Promise<Map<string, GanetiInstance>> {
  // prettier-ignore
  const out = await tb.run([
    "gnt-instance", "list", "--no-headers", "--separator=|", "--units=m",
    "-o", "name,uuid,ctime,be/memory,tags",
  ]);
  const all = new Map<string, GanetiInstance>();
  for (const line of out.trim().split("\n").filter(Boolean)) {
    const [name = "", uuid = "", ctime = "", mem = "", tags = ""] = line.split("|");
    all.set(name, {
      name,
      uuid,
      ctime,
      memoryMiB: Number(mem),
      tags: tags.split(",").filter(Boolean),
    });
  }
  return all;
}

/** Every farmctl:farm:/farmctl:member: tag Ganeti holds, as "<instance> <tag>". */
export async function farmTags(tb: Testbed): Promise<string[]> {
  return [...(await ganetiInstances(tb)).values()].flatMap((i) =>
    i.tags.filter((t) => t.startsWith("farmctl:")).map((t) => `${i.name} ${t}`),
  );
}

/** The row of `member` in the table `farm up`/`farm down` print: MEMBER VM ACTION STATUS ... */
export function runRow(stdout: string, member: string): string[] {
  const row = stdout
    .split("\n")
    .map((l) => l.trim().split(/\s{2,}/))
    .find((cells) => cells[0] === member);
  if (!row) throw new Error(`no row for member '${member}' in:\n${stdout}`);
  return row;
}

const escaped = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Throws unless the member is reachable as a user would check it: its name resolves through named
 * and host01's resolver, its console shows the DHCP lease of that address, its public SSH port is
 * forwarded to it (shorewall's files) and answers from the internet, and its nginx site exists and
 * serves its page from the internet exactly when it has a web name.
 */
export async function expectReachable(tb: Testbed, m: MemberStatus): Promise<void> {
  const fqdn = fqdnOf(m.name);
  expect(m.ip, `${m.member}'s address`).toMatch(/^10\.10\.60\.\d+$/);
  const ip = m.ip!;
  expect((await tb.run(["dig", "+short", "@10.10.60.1", fqdn])).trim()).toBe(ip);
  expect((await tb.run(["getent", "hosts", fqdn])).trim()).toMatch(
    new RegExp(`^${escaped(ip)}\\s`),
  );
  // The guest took its address from dhcpd (udhcpc), and prints it every 2 s.
  await serialLine(tb, fqdn, new RegExp(`^STATUS ip=${escaped(ip)} `), 120_000);

  const param = new RegExp(`^(\\w+)=${escaped(ip)}$`, "m").exec(
    tb.readFile("/etc/shorewall/params"),
  )?.[1];
  expect(param, `a shorewall param holding ${ip}`).toBeDefined();
  expect(tb.readFile("/etc/shorewall/rules")).toMatch(
    new RegExp(`^DNAT\\s+net\\s+loc:\\$${param}:22\\s+tcp\\s+${m.sshPort}\\s`, "m"),
  );
  const banner = await retry(
    `${m.name}'s SSH banner via DNAT port ${m.sshPort}`,
    60_000,
    async () => {
      // prettier-ignore
      const r = await tb.internet([
      "timeout", "8", "socat", "-u", `TCP:${PUBLIC}:${m.sshPort},connect-timeout=5`, "-",
    ]);
      return r.stdout.startsWith("SSH-2.0-farmguest") ? r.stdout : null;
    },
  );
  expect(banner.trim()).toBe("SSH-2.0-farmguest");

  const sites = (await tb.run(["ls", "/etc/nginx/sites-enabled"])).split("\n").filter(Boolean);
  if (m.webName === null) {
    expect(sites.filter((s) => s.startsWith(`${m.name}.`))).toEqual([]);
    return;
  }
  expect(tb.readlink(`/etc/nginx/sites-enabled/${m.webName}`)).toBe(
    `/etc/nginx/sites-available/${m.webName}`,
  );
  const page = await retry(`${m.webName} via nginx`, 60_000, async () => {
    // prettier-ignore
    const r = await tb.internet([
      "curl", "-sS", "-m", "5", "-H", `Host: ${m.webName}`, `http://${PUBLIC}/`,
    ]);
    return r.exitCode === 0 && r.stdout.includes(`ip=${ip}`) ? r.stdout : null;
  });
  expect(page.trim()).toMatch(new RegExp(`^farmguest host=\\S+ ip=${escaped(ip)}$`));
}

/** `farmctl farm status NAME --json`'s members, or null when farmd has no such farm. */
export async function farmStatus(tb: Testbed, farm: string): Promise<MemberStatus[] | null> {
  const r = await farmctl(tb, ["farm", "status", farm, "--json"]);
  if (r.exitCode !== 0) {
    if (/not_found|no farm/.test(r.stdout + r.stderr)) return null;
    throw new Error(`farm status ${farm} exited ${r.exitCode}:\n${r.stdout}${r.stderr}`);
  }
  return (JSON.parse(r.stdout) as { status: { members: MemberStatus[] } }).status.members;
}
