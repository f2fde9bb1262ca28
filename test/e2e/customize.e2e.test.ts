// The customize step on the testbed's real Ganeti host (issue 9): gallifrey's disk holds a mini
// Debian root (test/testbed/guest/build-disk.sh) which the testbed guest boots like Debian
// (boot-root: IDENTITY and CONF lines on its serial console). A farmd of this test's own turns
// [guest] customize on; libguestfs runs under TCG here (~45 s a launch), so launches are few: one
// clone that succeeds, one that fails inside guestfish and must be rolled back.
import { describe, expect, it, beforeAll, afterAll } from "vitest";
import { unavailableReason, useTestbed, type FarmdProcess } from "../testbed/testbed.js";
import {
  SOURCE,
  TARGET,
  farmctl,
  farmdConfig,
  hostState,
  lvOf,
  lvs,
  serialAside,
  serialLines,
  type HostState,
  E2E_TEST_MS,
} from "./helpers.js";

const skip = unavailableReason();
const OPERATIONS = '["hostname", "machine-id", "ssh-host-keys", "net-state", "files"]';
const CONF = "/etc/packaging-farm/packaging-farm.conf";
const REVISION = "e2e9c0ffee42";

/** What boot-root prints once the guest's units ran: `IDENTITY host=.. machine-id=.. keys=..,..`. */
interface ConsoleIdentity {
  host: string;
  machineId: string;
  keys: string[];
  conf: Map<string, string>;
}

async function consoleIdentity(
  tb: ReturnType<typeof useTestbed>,
  instance: string,
  host: string,
): Promise<ConsoleIdentity> {
  // The IDENTITY line of this hostname, and the CONF lines printed after it in the same read.
  const re = new RegExp(`^IDENTITY host=${host} `);
  const lines = await serialLines(tb, instance, re, 180_000);
  const at = lines.findIndex((l) => re.test(l));
  const m = /^IDENTITY host=(\S+) machine-id=(\S*) keys=(\S*)$/.exec(lines[at]!);
  if (!m) throw new Error(`odd IDENTITY line: ${lines[at]}`);
  const conf = new Map<string, string>();
  for (const l of lines.slice(at + 1)) {
    const c = /^CONF ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(l);
    if (c) conf.set(c[1]!, c[2]!);
    else if (conf.size > 0) break;
  }
  return { host: m[1]!, machineId: m[2]!, keys: m[3]!.split(",").filter(Boolean), conf };
}

interface OpEvent {
  type: string;
  step?: string;
  ms?: number;
  message?: string;
}

describe.skipIf(skip !== null)(
  `the clone's customize step on the testbed${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();
    const farmds: FarmdProcess[] = [];

    /** A farmd for this test: the testbed's config with customize on, plus `files`. */
    async function customizingFarmd(name: string, operations: string, files: string) {
      const config = await farmdConfig(tb, name, {
        stateDir: `${tb.dir}/state-${name}`,
        socket: `/run/farmd/${name}.sock`,
        edit: (toml) => {
          const on = toml.replace(/^customize = \[\]$/m, `customize = ${operations}`);
          if (on === toml) throw new Error("the testbed's farmd.toml has no 'customize = []'");
          return on;
        },
        extra: files,
      });
      const farmd = await tb.spawnFarmd(config);
      farmds.push(farmd);
      return { config, farmd };
    }

    async function stop(farmd: FarmdProcess) {
      if (farmd.exit) return;
      process.kill(farmd.pid, "SIGTERM");
      await farmd.exited;
    }

    afterAll(async () => {
      for (const f of farmds) await stop(f);
    }, 60_000);

    it(
      "a failure inside guestfish rolls the clone back: no LV, instance or config entry left",
      async () => {
        // mkdir -p of /etc/hostname/ fails inside the appliance: /etc/hostname is a regular file.
        const { config, farmd } = await customizingFarmd(
          "customize-bad",
          '["files"]',
          '[guest.files."/etc/hostname/farm.conf"]\ntemplate = "packaging-farm.conf.njk"',
        );
        const before = await hostState(tb);
        const t0 = Date.now();
        // prettier-ignore
        const r = await farmctl(tb, [
          "clone", "--config", config, "gallifrey", "gallifrey-qa", "--var", `git_revision=${REVISION}`,
        ], E2E_TEST_MS);
        console.log(`failed clone took ${Date.now() - t0} ms:\n${r.stderr}`);
        expect(r.exitCode, r.stdout + r.stderr).toBe(1);
        expect(r.stderr).toMatch(/step 'customize'.*failed/);
        expect(r.stderr).toMatch(/\/etc\/hostname/);
        expect(r.stderr).toContain("undone");
        expect(serialAside(await hostState(tb))).toEqual(serialAside(before));
        expect((await lvs(tb)).map((l) => l.name).filter((n) => /qa|farm-snap/.test(n))).toEqual(
          [],
        );
        // No guestfish (nor its appliance) is left running on the removed LV.
        expect((await tb.exec(["pgrep", "-P", String(farmd.pid)])).stdout.trim()).toBe("");
        await stop(farmd);
      },
      E2E_TEST_MS,
    );

    describe("farmctl clone gallifrey gallifrey-dev, customized", () => {
      let config = "";
      let socket = "";
      let source: ConsoleIdentity;
      let sourceLv = "";
      let diskBefore = "";
      let before: HostState;
      let out: { exitCode: number; stdout: string; stderr: string };
      let result: {
        opId: string;
        guest: {
          operations: string[];
          hostname: string | null;
          files: string[];
          machineId: string | null;
          sshHostKeys: { fingerprint: string; comment: string }[] | null;
        } | null;
      };
      let clone: ConsoleIdentity;

      const sha256 = async (dev: string) =>
        (await tb.run(["sha256sum", dev], { timeoutMs: 120_000 })).split(" ")[0]!;

      beforeAll(async () => {
        const started = await customizingFarmd(
          "customize",
          OPERATIONS,
          `[guest.files."${CONF}"]\ntemplate = "packaging-farm.conf.njk"\nmode = "0640"\nowner = "0:1000"`,
        );
        config = started.config;
        socket = started.farmd.socket;
        // gallifrey's own identity, as its console shows it once it mounted its disk.
        source = await consoleIdentity(tb, SOURCE, "gallifrey");
        sourceLv = await lvOf(tb, SOURCE);
        diskBefore = await sha256(`/dev/all/${sourceLv}`);
        before = await hostState(tb);
        const t0 = Date.now();
        // prettier-ignore
        out = await farmctl(tb, [
          "clone", "--config", config, "gallifrey", "gallifrey-dev", "--var", `git_revision=${REVISION}`, "--json",
        ], 2 * E2E_TEST_MS);
        console.log(`customized clone took ${Date.now() - t0} ms:\n${out.stderr}`);
        expect(out.exitCode, out.stdout + out.stderr).toBe(0);
        result = (JSON.parse(out.stdout) as { result: typeof result }).result;
        // Each step's time (the customize step's and the identity wait) from the operation's events.
        // prettier-ignore
        const events = (await tb.run([
          "curl", "-sf", "--unix-socket", socket, `http://farmd/v1/operations/${result.opId}/events`,
        ])).split("\n").filter(Boolean).map((l) => JSON.parse(l) as OpEvent);
        const times = events
          .filter((e) => e.type === "step-done")
          .map((e) => `${e.step} ${e.ms} ms`)
          .join(", ");
        const info = events.filter((e) => e.type === "info").map((e) => e.message);
        console.log(`steps: ${times}\n${info.join("\n")}`);
        clone = await consoleIdentity(tb, TARGET, "gallifrey-dev");
        // A backstop only: the source's boot, the appliance and the clone each wait for their state.
      }, 4 * E2E_TEST_MS);

      it("the source's console shows the identity build-disk.sh gave it", () => {
        expect(source.machineId).toMatch(/^[0-9a-f]{32}$/);
        expect(source.keys).toHaveLength(2);
        expect(source.conf.get("FARM_NAME")).toBe("gallifrey");
      });

      it("the clone boots as gallifrey-dev, with its own machine-id and host keys", () => {
        expect(clone.host).toBe("gallifrey-dev");
        expect(clone.machineId).toMatch(/^[0-9a-f]{32}$/);
        expect(clone.machineId).not.toBe(source.machineId);
        // ssh-keygen -A made every type: at least ed25519 and ecdsa, none of them the source's
        expect(clone.keys.length).toBeGreaterThanOrEqual(2);
        for (const k of clone.keys) expect(k).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
        for (const k of source.keys) expect(clone.keys).not.toContain(k);
      });

      it("its packaging-farm.conf is the template's, with the clone's values", () => {
        expect(clone.conf.get("FARM_NAME")).toBe("'gallifrey-dev'");
        expect(clone.conf.get("FARM_FQDN")).toBe(`'${TARGET}'`);
        expect(clone.conf.get("FARM_SOURCE")).toBe(`'${SOURCE}'`);
        expect(clone.conf.get("GIT_REVISION")).toBe(`'${REVISION}'`);
        expect(clone.conf.get("FARM_IP")).toBe("'10.10.60.6'");
        expect(result.guest?.files).toEqual([CONF]);
      });

      it("the clone's result carries the identity its console showed", () => {
        expect(result.guest?.operations).toEqual(JSON.parse(OPERATIONS));
        expect(result.guest?.hostname).toBe("gallifrey-dev");
        expect(result.guest?.machineId).toBe(clone.machineId);
        expect(result.guest?.sshHostKeys?.map((k) => k.fingerprint).sort()).toEqual(
          [...clone.keys].sort(),
        );
      });

      it("farmctl show displays the fingerprints the console showed", async () => {
        const r = await farmctl(tb, ["show", "--config", config, "gallifrey-dev"]);
        expect(r.exitCode, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/^ {2}hostname +gallifrey-dev$/m);
        expect(r.stdout).toContain(`machine-id ${clone.machineId}`);
        const shown = [...r.stdout.matchAll(/^ {2}host key +\d+ (\S+) /gm)].map((m) => m[1]);
        expect(shown.sort()).toEqual([...clone.keys].sort());
      });

      it(
        "gallifrey's disk is unchanged, byte for byte",
        async () => {
          expect(await lvOf(tb, SOURCE)).toBe(sourceLv);
          expect(await sha256(`/dev/all/${sourceLv}`)).toBe(diskBefore);
        },
        E2E_TEST_MS,
      );

      it(
        "farmctl destroy --yes gallifrey-dev leaves the host as it was before the clone",
        async () => {
          const r = await farmctl(tb, ["destroy", "--config", config, "--yes", "gallifrey-dev"]);
          expect(r.exitCode, r.stdout + r.stderr).toBe(0);
          expect(serialAside(await hostState(tb))).toEqual(serialAside(before));
        },
        E2E_TEST_MS,
      );
    });
  },
);
