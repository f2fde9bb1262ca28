// The appliance farmd builds at start, over the real Guestfs adapter with guestfish's recorded
// output (test/recordings/guestfish-1.48.6-*): what the log and GET /v1/health say when it is
// ready, when guestfish or the kernel is missing, and when the tool fails otherwise.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Appliance } from "../../src/daemon/appliance.js";
import { Guestfs } from "../../src/host/guestfs.js";
import { ScriptedRunner, recording } from "../fakes/scripted-runner.js";
import { until } from "../ops/clone-harness.js";

const PREPARE = ["guestfish", "--ro", "-a", "/dev/null", "run"];
let base: string;
let runner: ScriptedRunner;
let logs: string[];

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), "appliance-unit-"));
  mkdirSync(join(base, "boot"));
  writeFileSync(join(base, "boot", "vmlinuz-6.1.0-57-amd64"), "");
  runner = new ScriptedRunner();
  logs = [];
});
afterEach(() => {
  runner.assertDone();
  rmSync(base, { recursive: true, force: true });
});

const cache = () => join(base, "cache");

/** Starts the build and waits for its end, as farmd's start does in the background. */
async function build(which: (n: string) => string | null = (n) => `/usr/bin/${n}`) {
  const guest = new Guestfs({
    runner,
    backend: "direct",
    backendSettings: ["force_tcg"],
    cacheDir: cache(),
    timeoutMs: 600_000,
    bootDir: join(base, "boot"),
    which,
  });
  const appliance = new Appliance({
    guest,
    cacheDir: cache(),
    wanted: true,
    log: (level, m) => logs.push(`${level}: ${m}`),
  });
  expect(appliance.health().state).toBe("off");
  appliance.start();
  expect(appliance.health()).toEqual({
    state: "building",
    detail: `building into ${cache()}`,
    seconds: null,
  });
  await appliance.building();
  expect(appliance.building()).toBeNull();
  return appliance.health();
}

describe("the start-time appliance build", () => {
  it("logs the time it took and the cache, and reports ready", async () => {
    runner.expect({ argv: PREPARE });
    const health = await build();
    expect(health).toEqual({ state: "ready", detail: `built in ${cache()}`, seconds: 0 });
    expect(logs).toEqual([`info: guestfs appliance ready in 0.0 s (cache ${cache()})`]);
  });

  it("takes an appliance already in the cache without booting it", async () => {
    const dir = join(cache(), `.guestfs-${process.getuid!()}`, "appliance.d");
    mkdirSync(dir, { recursive: true });
    for (const f of ["kernel", "initrd", "root"]) writeFileSync(join(dir, f), "");
    const health = await build();
    expect(health).toEqual({
      state: "ready",
      detail: `found in ${cache()} (supermin rebuilds it at a launch if the host's packages changed)`,
      seconds: 0,
    });
    expect(logs).toEqual([`info: guestfs appliance ready in 0.0 s (cache ${cache()})`]);
    expect(runner.calls).toEqual([]);
  });

  it("names libguestfs-tools when guestfish is missing, running nothing", async () => {
    const health = await build(() => null);
    expect(health.state).toBe("unavailable");
    expect(health.detail).toMatch(
      /^guestfish is not installed: .*; fix: apt-get install libguestfs-tools/,
    );
    expect(logs).toEqual([`warning: guestfs appliance unavailable: ${health.detail}`]);
    expect(runner.calls).toEqual([]);
  });

  it("names linux-image-amd64 when /boot has no kernel, running nothing", async () => {
    rmSync(join(base, "boot", "vmlinuz-6.1.0-57-amd64"));
    const health = await build();
    expect(health.state).toBe("unavailable");
    expect(health.detail).toMatch(
      /^no \/boot\/vmlinuz-\* .*; fix: .*apt-get install linux-image-amd64/,
    );
    expect(logs).toEqual([`warning: guestfs appliance unavailable: ${health.detail}`]);
    expect(runner.calls).toEqual([]);
  });

  it("names linux-image-amd64 when supermin fails to build it", async () => {
    const stderr = recording("guestfish-1.48.6-no-kernel-stderr.txt");
    runner.expect({ argv: PREPARE, exitCode: 1, stderr });
    const health = await build();
    expect(health.detail).toMatch(/supermin exited with error status 1.*linux-image-amd64/);
  });

  it("passes any other failure on with the tool's own message", async () => {
    const stderr = recording("guestfish-1.48.6-listen-missing-disk-stderr.txt");
    runner.expect({ argv: PREPARE, exitCode: 1, stderr });
    const health = await build();
    expect(health.state).toBe("unavailable");
    expect(health.detail).toBe(
      "command failed (exit 1): guestfish --ro -a /dev/null run; fix: guestfish: access: /nonexistent/disk.img: No such file or directory",
    );
  });

  it("is stopped with farmd: the build's guestfish is killed and waited for", async () => {
    let killed = false;
    // guestfish as execa runs it: the abort kills it, and the run fails once it is gone.
    runner.expect({
      argv: PREPARE,
      effect: (_a, opts) =>
        new Promise<void>((_resolve, reject) =>
          opts.signal?.addEventListener("abort", () => {
            killed = true;
            reject(new Error("guestfish killed by SIGTERM"));
          }),
        ),
    });
    const appliance = new Appliance({
      guest: new Guestfs({
        runner,
        backend: "direct",
        backendSettings: [],
        cacheDir: cache(),
        timeoutMs: 600_000,
        bootDir: join(base, "boot"),
        which: (n) => `/usr/bin/${n}`,
      }),
      cacheDir: cache(),
      wanted: true,
      log: (level, m) => logs.push(`${level}: ${m}`),
    });
    appliance.start();
    await until(() => runner.calls.length === 1);
    await appliance.stop();
    expect(killed).toBe(true);
    expect(appliance.building()).toBeNull();
    expect(appliance.health()).toEqual({
      state: "off",
      detail: "farmd stopped before the build ended",
      seconds: null,
    });
    expect(logs).toEqual(["info: guestfs appliance build stopped with farmd"]);
  });
});
