// Where farmd keeps its state: the checkout's state/ only when run from the checkout itself.
import { execa } from "execa";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { INSTALLED_STATE, guestfsCacheDir, stateDir } from "../../src/config/paths.js";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const FARMD = join(REPO, "dist/daemon/main.js");

let dir = "";
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

/** A checkout (dist/daemon/main.js, state/) and an install symlink to it, as README shows. */
function layout(): { checkout: string; main: string; link: string } {
  dir = mkdtempSync(join(tmpdir(), "farm-paths-"));
  const checkout = join(dir, "farmctl");
  mkdirSync(join(checkout, "dist/daemon"), { recursive: true });
  mkdirSync(join(checkout, "state"));
  const main = join(checkout, "dist/daemon/main.js");
  writeFileSync(main, "");
  mkdirSync(join(dir, "sbin"));
  const link = join(dir, "sbin/farmd");
  symlinkSync(main, link);
  return { checkout, main, link };
}

const defaults = parseConfig("", "f");

describe("guestfsCacheDir", () => {
  it("is <state_dir>/guestfs unless [guest] cache_dir says", () => {
    expect(guestfsCacheDir(defaults, "/var/lib/farmd")).toBe("/var/lib/farmd/guestfs");
    const c = parseConfig('[guest]\ncache_dir = "/var/cache/farmd/guestfs"\n', "f");
    expect(guestfsCacheDir(c, "/var/lib/farmd")).toBe("/var/cache/farmd/guestfs");
  });
});

describe("stateDir", () => {
  it("is the checkout's state/ when run from the checkout", () => {
    const { checkout, main } = layout();
    expect(stateDir(defaults, main, checkout)).toBe(join(checkout, "state"));
  });

  it("is /var/lib/farmd when run through the install symlink", () => {
    const { checkout, link } = layout();
    expect(stateDir(defaults, link, checkout)).toBe(INSTALLED_STATE);
  });

  it("still the checkout when the checkout itself is reached through a symlinked directory", () => {
    const { checkout } = layout();
    symlinkSync(checkout, join(dir, "co"));
    expect(stateDir(defaults, join(dir, "co/dist/daemon/main.js"), checkout)).toBe(
      join(checkout, "state"),
    );
  });

  it("is /var/lib/farmd for a checkout without state/, and state_dir wins over both", () => {
    const { checkout, main, link } = layout();
    rmSync(join(checkout, "state"), { recursive: true });
    expect(stateDir(defaults, main, checkout)).toBe(INSTALLED_STATE);
    const given = parseConfig('state_dir = "/srv/farmd"\n', "f");
    expect(stateDir(given, link, checkout)).toBe("/srv/farmd");
  });
});

/**
 * Runs the real farmd (as `invokedAs`) in a private mount namespace where /var/lib and the
 * checkout's state/ are empty tmpfs, so nothing it writes reaches the host; returns its log
 * once it listens, and the files each state directory then holds.
 */
async function farmdIn(
  invokedAs: string,
): Promise<{ log: string; varlib: string[]; own: string[] }> {
  const config = join(dir, "farmd.toml");
  writeFileSync(config, `socket = "${dir}/farmd.sock"\n`);
  const script = `
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, existsSync } from "node:fs";
for (const d of ["/var/lib", ${JSON.stringify(join(REPO, "state"))}])
  execFileSync("mount", ["-t", "tmpfs", "farm-paths-test", d]);
const child = spawn("node", [${JSON.stringify(invokedAs)}, "--config", ${JSON.stringify(config)}]);
let log = "";
child.stderr.on("data", (b) => {
  log += b;
  if (log.includes("listening on")) child.kill("SIGTERM");
});
child.on("exit", () => {
  const ls = (d) => (existsSync(d) ? readdirSync(d).sort() : []);
  console.log(JSON.stringify({ log, varlib: ls("/var/lib/farmd"), own: ls(${JSON.stringify(join(REPO, "state"))}) }));
});`;
  const r = await execa(
    "unshare",
    ["--mount", "--propagation", "private", "node", "--input-type=module", "-e", script],
    { timeout: 60_000 },
  );
  return JSON.parse(r.stdout) as { log: string; varlib: string[]; own: string[] };
}

describe("the real farmd", () => {
  it("installed through a symlink, keeps its state in /var/lib/farmd, not the checkout's", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-paths-"));
    symlinkSync(FARMD, join(dir, "farmd"));
    const r = await farmdIn(join(dir, "farmd"));
    expect(r.log).toContain(`state ${INSTALLED_STATE})`);
    expect(r.varlib).toContain("farmd.sqlite");
    expect(r.own).toEqual([]);
  });

  it("run from the checkout, keeps it in the checkout's state/", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-paths-"));
    const r = await farmdIn(FARMD);
    expect(r.log).toContain(`state ${join(REPO, "state")})`);
    expect(r.own).toContain("farmd.sqlite");
    expect(r.varlib).toEqual([]);
  });
});
