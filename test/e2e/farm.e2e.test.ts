// Staging farms on the testbed's real Ganeti host (issue 10): a farm of three members cloned from
// gallifrey (small memory; one with web = true; two platforms), driven through `farmctl farm` and
// checked with tools independent of farmd: gnt-instance (memory, UUID, creation time, tags), dig,
// the guests' consoles, shorewall's files and the DNAT from the internet, nginx, lvs, the config
// files' bytes. The tests run in order on one farm; each clone costs a minute or two here, so the
// sequence makes four: other (--platform), web (while build fails), build, other again (atomic).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FarmPlan } from "../../src/api/farm.js";
import { unavailableReason, useTestbed } from "../testbed/testbed.js";
import {
  E2E_TEST_MS,
  farmctl,
  hostState,
  serialAside,
  withoutSerial,
  ZONE,
  type HostState,
} from "./helpers.js";
import {
  expectReachable,
  farmStatus,
  farmTags,
  fqdnOf,
  ganetiInstances,
  runRow,
  type GanetiInstance,
  variant,
  writeSpec,
  type SpecObject,
} from "./farm-helpers.js";

const skip = unavailableReason();
const FARM = "e2e";
const VARS = ["--var", "release=3.2.0-e2e"];
/** A clone here takes one to two minutes (TCG guests, 2 cores): backstops, not deadlines. */
const UP_MS = 4 * E2E_TEST_MS;

const SPEC: SpecObject = {
  name: FARM,
  required_vars: ["release"],
  vars: { branch: "release/e2e" },
  run: { on_error: "continue", wait: "ssh", wait_timeout: "10m" },
  defaults: { memory: "512M", balloon: "256M", web: false },
  platforms: { alpha: { source: "gallifrey" }, beta: { source: "gallifrey" } },
  members: {
    web: { platform: "alpha", web: true, vars: { role: "web" } },
    build: { platform: "alpha", vars: { role: "build" } },
    other: { platform: "beta", vars: { role: "other" } },
  },
};
const NAMES = { web: "e2e-web", build: "e2e-build", other: "e2e-other" };

describe.skipIf(skip !== null)(
  `farmctl farm on the testbed's real Ganeti host${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();
    let before: HostState;
    let zoneBefore = "";
    let spec = "";

    const farm = (args: string[], timeoutMs = E2E_TEST_MS) =>
      farmctl(tb, ["farm", ...args], timeoutMs);
    const plan = async (file: string, more: string[] = []) => {
      const r = await farm(["plan", file, ...VARS, ...more, "--json"]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { plan: FarmPlan }).plan;
    };
    /** `farm up FILE --yes`, its progress and table kept in the log. */
    const up = async (what: string, file: string, more: string[] = []) => {
      const r = await farm(["up", file, ...VARS, ...more, "--yes"], UP_MS);
      console.log(`farm up (${what}):\n${r.stderr}\n${r.stdout}`);
      return r;
    };
    /** VM, action and status of a member in the table up and down print. */
    const row = (stdout: string, member: string) => runRow(stdout, member).slice(1, 4);
    /** Ganeti still has these members as they were (same UUID, creation time, memory, tags). */
    const expectUntouched = async (ids: Map<string, GanetiInstance>, names: string[]) => {
      const now = await ganetiInstances(tb);
      for (const n of names) expect(now.get(fqdnOf(n)), n).toEqual(ids.get(fqdnOf(n)));
    };
    /** `farm plan --detailed-exitcode`: 0 no change, 2 changes, 1 an error. */
    const planExit = async (file: string) => {
      const r = await farm(["plan", file, ...VARS, "--detailed-exitcode"]);
      return { code: r.exitCode, out: r.stdout + r.stderr };
    };
    /** The plan's actions as "ACTION MEMBER VM", in order. */
    const expectPlan = async (file: string, want: string[], more: string[] = []) =>
      expect(actions(await plan(file, more))).toEqual(want);
    const actions = (p: FarmPlan) => p.actions.map((a) => `${a.action} ${a.member} ${a.name}`);
    const exists = async (name: string) => (await ganetiInstances(tb)).has(fqdnOf(name));

    beforeAll(async () => {
      before = await hostState(tb);
      zoneBefore = tb.readFile(ZONE);
      spec = await writeSpec(tb, "farm-e2e.toml", SPEC);
    }, E2E_TEST_MS);

    // Cleanup even when a test failed half-way: the testbed goes down next, but the farm first.
    afterAll(async () => {
      const r = await farm(["list", "--json"]);
      if (r.exitCode === 0 && r.stdout.includes(`"${FARM}"`))
        await farm(["down", FARM, "--yes", "--force"], UP_MS);
    }, UP_MS + 60_000);

    it(
      "a hand-made VM with a member's name is refused, and nothing changes",
      async () => {
        // gallifrey was adopted by hand (testbed.sh): neither the inventory nor a farm tag owns it.
        const hand = await writeSpec(tb, "farm-hand.toml", {
          name: "e2e-hand",
          members: {
            src: { source: "gallifrey", name: "gallifrey", memory: "512M", balloon: "256M" },
          },
        });
        const p = await farm(["plan", hand, "--detailed-exitcode"]);
        expect(p.exitCode, p.stdout + p.stderr).toBe(1);
        expect(p.stdout).toMatch(/^refuse\s+src\s+gallifrey\s+.*no record of \(made by hand\?\)/m);
        const u = await farm(["up", hand, "--yes"]);
        expect(u.exitCode, u.stdout + u.stderr).toBe(65);
        expect(u.stdout + u.stderr).toMatch(/gallifrey.*made by hand/);
        expect(await hostState(tb)).toEqual(before);
        expect(await farmTags(tb)).toEqual([]);
        expect(await farmStatus(tb, "e2e-hand")).toBeNull();
      },
      E2E_TEST_MS,
    );

    it(
      "farm plan shows 3 creates (--detailed-exitcode 2), --platform beta one",
      async () => {
        const p = await planExit(spec);
        expect(p.code, p.out).toBe(2);
        expect(p.out).toContain("3 to create, 0 to replace, 0 to update, 0 unchanged");
        await expectPlan(spec, [
          "create web e2e-web",
          "create build e2e-build",
          "create other e2e-other",
        ]);
        await expectPlan(spec, ["create other e2e-other"], ["--platform", "beta"]);
        expect(await hostState(tb)).toEqual(before);
      },
      E2E_TEST_MS,
    );

    it(
      "farm up --platform beta creates its one member only",
      async () => {
        const r = await up("--platform beta", spec, ["--platform", "beta"]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(row(r.stdout, "other")).toEqual(["e2e-other", "create", "done"]);
        expect(r.stdout).not.toMatch(/^(web|build)\s/m);
        expect(await exists(NAMES.other)).toBe(true);
        expect(await exists(NAMES.web)).toBe(false);
        expect(await exists(NAMES.build)).toBe(false);
        await expectPlan(spec, [
          "create web e2e-web",
          "create build e2e-build",
          "noop other e2e-other",
        ]);
      },
      UP_MS,
    );

    it(
      "a member whose source is missing fails while the others come up (exit 1, per member)",
      async () => {
        const broken = await writeSpec(
          tb,
          "farm-e2e-broken.toml",
          variant(SPEC, (s) => (s.members.build!.source = "nosuchvm")),
        );
        const r = await up("a missing source", broken);
        expect(r.exitCode, r.stdout + r.stderr).toBe(1);
        expect(row(r.stdout, "web")).toEqual(["e2e-web", "create", "done"]);
        const build = runRow(r.stdout, "build");
        expect(build.slice(1, 4)).toEqual(["e2e-build", "create", "failed"]);
        expect(build.join(" ")).toContain("nosuchvm");
        expect(row(r.stdout, "other")).toEqual(["e2e-other", "noop", "unchanged"]);
        expect(await exists(NAMES.web)).toBe(true);
        expect(await exists(NAMES.build)).toBe(false);
      },
      UP_MS,
    );

    it(
      "with the spec fixed, a second up creates only the missing member",
      async () => {
        await expectPlan(spec, [
          "noop web e2e-web",
          "create build e2e-build",
          "noop other e2e-other",
        ]);
        const ids = await ganetiInstances(tb);
        const r = await up("converging", spec);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(row(r.stdout, "build")).toEqual(["e2e-build", "create", "done"]);
        for (const m of ["web", "other"]) expect(runRow(r.stdout, m)[3]).toBe("unchanged");
        await expectUntouched(ids, [NAMES.web, NAMES.other]);
        expect(await planExit(spec)).toMatchObject({ code: 0 });
      },
      UP_MS,
    );

    it(
      "each member is reachable: DNS, DHCP lease, SSH through the DNAT, nginx where web",
      async () => {
        const members = (await farmStatus(tb, FARM))!;
        expect(members.map((m) => m.member)).toEqual(["web", "build", "other"]);
        for (const m of members) await expectReachable(tb, m);
      },
      2 * E2E_TEST_MS,
    );

    it("Ganeti tags each member's instance as this farm's; its memory is the spec's", async () => {
      const all = await ganetiInstances(tb);
      for (const [key, name] of Object.entries(NAMES)) {
        const inst = all.get(fqdnOf(name))!;
        expect(inst.tags.sort()).toEqual([`farmctl:farm:${FARM}`, `farmctl:member:${key}`]);
        expect(inst.memoryMiB).toBe(512);
      }
      expect(all.get("gallifrey.xivo.vm.farm")?.tags).toEqual([]);
    });

    it("farm status matches the host; farm list shows the farm", async () => {
      const members = (await farmStatus(tb, FARM))!;
      const all = await ganetiInstances(tb);
      const running = await tb.run(["gnt-instance", "list", "--no-headers", "-o", "name,status"]);
      for (const m of members) {
        const fqdn = fqdnOf(m.name);
        expect(all.has(fqdn)).toBe(true);
        expect(running).toMatch(new RegExp(`^${fqdn.replace(/\./g, "\\.")}\\s+running$`, "m"));
        expect(m.state).toBe("running");
        expect((await tb.run(["dig", "+short", "@10.10.60.1", fqdn])).trim()).toBe(m.ip);
        expect(m.drift).toEqual([]);
        expect(m.vars).toEqual({ branch: "release/e2e", release: "3.2.0-e2e", role: m.member });
      }
      expect(members.map((m) => [m.member, m.name, m.platform, m.webName])).toEqual([
        ["web", "e2e-web", "alpha", "e2e-web.dachary.org"],
        ["build", "e2e-build", "alpha", null],
        ["other", "e2e-other", "beta", null],
      ]);
      expect(new Set(members.map((m) => m.sshPort)).size).toBe(3);
      const list = await farm(["list"]);
      expect(list.exitCode, list.stderr).toBe(0);
      expect(list.stdout).toMatch(
        new RegExp(`^${FARM}\\s+3\\s+${spec.replace(/\./g, "\\.")}\\s`, "m"),
      );
    });

    it(
      "a memory change plans an update, and up applies it in place (same instance)",
      async () => {
        const bigger = await writeSpec(
          tb,
          "farm-e2e.toml",
          variant(SPEC, (s) => (s.platforms.beta!.memory = "640M")),
        );
        const p = await planExit(bigger);
        expect(p.code, p.out).toBe(2);
        expect(p.out).toMatch(/^update\s+other\s+e2e-other\s+memory: 512M → 640M$/m);
        await expectPlan(bigger, [
          "noop web e2e-web",
          "noop build e2e-build",
          "update other e2e-other",
        ]);
        const ids = await ganetiInstances(tb);
        const u = await up("memory change", bigger);
        expect(u.exitCode, u.stdout + u.stderr).toBe(0);
        expect(row(u.stdout, "other")).toEqual(["e2e-other", "update", "done"]);
        const other = fqdnOf(NAMES.other);
        expect((await ganetiInstances(tb)).get(other)).toEqual({
          ...ids.get(other)!,
          memoryMiB: 640,
        });
        await expectUntouched(ids, [NAMES.web, NAMES.build]);
        expect(await planExit(bigger)).toMatchObject({ code: 0 });
        expect((await farmStatus(tb, FARM))!.flatMap((m) => m.drift)).toEqual([]);
      },
      UP_MS,
    );

    it(
      "farm down --platform beta destroys its member only",
      async () => {
        const ids = await ganetiInstances(tb);
        const r = await farm(["down", FARM, "--platform", "beta", "--yes"], UP_MS);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(row(r.stdout, "other")).toEqual(["e2e-other", "destroy", "done"]);
        expect(r.stdout).not.toMatch(/^(web|build)\s/m);
        expect(await exists(NAMES.other)).toBe(false);
        await expectUntouched(ids, [NAMES.web, NAMES.build]);
        expect((await farmStatus(tb, FARM))!.map((m) => m.member)).toEqual(["web", "build"]);
      },
      UP_MS,
    );

    it(
      "on_error atomic undoes what the run created when a member fails",
      async () => {
        // huge passes farmd's checks; after its copy, Ganeti's instance policy refuses 200G at add.
        const atomic = await writeSpec(
          tb,
          "farm-e2e-atomic.toml",
          variant(SPEC, (s) => {
            s.platforms.beta!.memory = "640M";
            s.members.huge = { platform: "alpha", memory: "200G", vars: { role: "huge" } };
          }),
        );
        const mark = await hostState(tb);
        const ids = await ganetiInstances(tb);
        const r = await up("--on-error atomic", atomic, ["--on-error", "atomic"]);
        expect(r.exitCode, r.stdout + r.stderr).toBe(1);
        expect(row(r.stdout, "other")).toEqual(["e2e-other", "create", "undone"]);
        expect(row(r.stdout, "huge")).toEqual(["e2e-huge", "create", "failed"]);
        expect(runRow(r.stdout, "huge").join(" ")).toMatch(/memory/i);
        for (const m of ["web", "build"]) expect(runRow(r.stdout, m)[3]).toBe("unchanged");
        expect(serialAside(await hostState(tb))).toEqual(serialAside(mark));
        expect(await ganetiInstances(tb)).toEqual(ids);
        expect((await farmStatus(tb, FARM))!.map((m) => m.member)).toEqual(["web", "build"]);
      },
      UP_MS,
    );

    it(
      "farm down --yes puts every config file back byte for byte; no LV, instance or tag is left",
      async () => {
        const r = await farm(["down", FARM, "--yes"], UP_MS);
        console.log(`farm down:\n${r.stderr}\n${r.stdout}`);
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        for (const m of ["web", "build"]) expect(runRow(r.stdout, m)[3]).toBe("done");
        const after = await hostState(tb);
        expect(serialAside(after)).toEqual(serialAside(before));
        expect(withoutSerial(tb.readFile(ZONE))).toBe(withoutSerial(zoneBefore));
        expect(after.lvs.filter((l) => /e2e|farm-snap/.test(l.name))).toEqual([]);
        expect(await farmTags(tb)).toEqual([]);
        expect(await farmStatus(tb, FARM)).toBeNull();
        const list = await farm(["list"]);
        expect(list.stdout).not.toMatch(new RegExp(`^${FARM}\\s`, "m"));
      },
      UP_MS,
    );
  },
);
