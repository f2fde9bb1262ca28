// farmd dies in the middle of a clone's disk copy, on the testbed's real Ganeti host (issue 4):
// - SIGKILL: nothing is recorded and its dd goes on writing; the next farmd kills that dd (by the PID
//   the journal recorded), rolls the operation back at start and leaves no
//   LV, snapshot, instance, config entry or inventory record behind;
// - SIGTERM: farmd aborts the copy, records the operation as interrupted and exits 0; the next
//   farmd leaves it alone, and `farmctl resume` finishes the clone into a VM that works.
// The copy is made slow enough to be caught (dd with O_DIRECT and bs = the sector size: minutes for
// gallifrey's 1 GiB) by a farmd of this test's own, a child of the test so that its exit status is
// seen; another config on the same state dir and socket copies with the default 1M, to resume.
import { readFileSync } from "node:fs";
import { describe, expect, it, beforeAll } from "vitest";
import { unavailableReason, useTestbed, type FarmdProcess } from "../testbed/testbed.js";
import {
  Fatal,
  SOURCE,
  TARGET,
  alive,
  children,
  cmdline,
  expectSameGuestDisk,
  farmctl,
  farmctlJson,
  farmdConfig,
  hostState,
  instances,
  lvOf,
  lvs,
  readMarker,
  retry,
  serialAside,
  serialLine,
  withoutSerial,
  E2E_TEST_MS,
} from "./helpers.js";

const skip = unavailableReason();
const SOCKET = "/run/farmd/crash.sock";
/** The clone's steps that write the host's entries while the disk is copied. */
const HOST_STEPS = ["dns", "dhcp", "firewall", "proxy"];

interface OpView {
  operation: { id: string; state: string; error: { code?: string; message?: string } | null };
  steps: { seq: number; name: string; state: string; error: string | null }[];
}

describe.skipIf(skip !== null)(
  `farmd killed or stopped during a clone's copy${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();
    /** Copies with dd bs=<sector>; `fast` has the same state dir and socket with the default 1M. */
    let slow = "";
    let fast = "";
    let farmd: FarmdProcess | null = null;

    const ctl = (config: string, args: string[]) => farmctl(tb, [...args, "--config", config]);
    const op = (config: string, id: string) =>
      farmctlJson<OpView>(tb, ["ops", id, "--config", config]);

    beforeAll(async () => {
      const stateDir = `${tb.dir}/state-crash`;
      // dd's smallest block for O_DIRECT, the device's logical sector: one I/O per 512 bytes
      // makes the 1 GiB copy last minutes, even where the loop device is fast.
      const sector = (
        await tb.run(["blockdev", "--getss", `/dev/all/${await lvOf(tb, SOURCE)}`])
      ).trim();
      expect(sector).toMatch(/^\d+$/);
      slow = await farmdConfig(tb, "crash-slow", {
        stateDir,
        socket: SOCKET,
        extra: `[copy]\nblock_size = "${sector}"`,
      });
      fast = await farmdConfig(tb, "crash", { stateDir, socket: SOCKET });
    });

    /** Starts a clone in `farmd` and returns once its copy runs: dd is farmd's child and has copied. */
    async function cloneUntilCopying(f: FarmdProcess, config: string) {
      const r = await ctl(config, ["clone", "gallifrey", "gallifrey-dev", "--detach"]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const opId = r.stdout.trim();
      expect(opId).toMatch(/^[0-9a-f]{8}$/);
      const dd = await retry(
        `operation ${opId} copying`,
        E2E_TEST_MS,
        async () => {
          const v = await op(config, opId);
          // Anything but running is a failure to report at once, not to wait out.
          if (v.operation.state !== "running")
            throw new Fatal(`operation ${opId} is ${v.operation.state}: ${JSON.stringify(v)}`);
          if (v.steps.find((s) => s.name === "copy")?.state !== "running") return null;
          // The host's entries run beside the copy (issue 12): signal once they are all written,
          // so that what the signal finds is the same each run.
          if (HOST_STEPS.some((n) => v.steps.find((s) => s.name === n)?.state !== "done"))
            return null;
          const child = children(f.pid).find(
            (c) => c.argv[0] === "dd" && c.argv.includes(`if=/dev/all/farm-snap-${opId}`),
          );
          if (!child) return null;
          // The API's event log (NDJSON) has the copy's progress: dd has written something.
          // prettier-ignore
          const events = await tb.run([
            "curl", "-sf", "--unix-socket", SOCKET, `http://farmd/v1/operations/${opId}/events`,
          ]);
          const progress = events
            .split("\n")
            .filter(Boolean)
            .map(
              (l) =>
                JSON.parse(l) as {
                  type: string;
                  bytes?: number;
                  total?: number;
                  rateBytesPerSec?: number;
                },
            )
            .filter((e) => e.type === "copy-progress");
          const last = progress.at(-1);
          if (!last || !last.bytes) return null;
          // Not finished: the signal will land in the copy (checked again after it).
          if (last.bytes >= (last.total ?? 0))
            throw new Fatal(`the copy ended before the test could stop farmd in it`);
          console.log(
            `operation ${opId}: copying, ${last.bytes} of ${last.total} bytes at ${Math.round((last.rateBytesPerSec ?? 0) / 1e6)} MB/s`,
          );
          return child;
        },
        200,
      );
      return { opId, dd };
    }

    const farmdLog = (name: string) => readFileSync(`${tb.dir}/log/farmd-${name}.log`, "utf8");

    async function waitGone(pid: number, what: string) {
      await retry(`${what} (pid ${pid}) gone`, 30_000, async () => (alive(pid) ? null : true), 100);
    }

    it("SIGKILL during the copy: the restarted farmd rolls the clone back and leaves nothing", async () => {
      const before = await hostState(tb);
      const zoneBefore = tb.readFile("/etc/bind/db.farm");
      farmd = await tb.spawnFarmd(slow);
      const { opId, dd } = await cloneUntilCopying(farmd, slow);
      const mid = await lvs(tb);
      expect(mid.map((l) => l.name)).toContain(`farm-snap-${opId}`);
      // Ganeti adopted the new disk before the copy: the instance's <uuid>.disk0, with the op's tag.
      const adopted = await lvOf(tb, TARGET);
      expect(mid.find((l) => l.name === adopted)?.tags).toContain(`farmd_op_${opId}`);

      // The crash: SIGKILL by PID. Nothing is recorded, and farmd's dd is orphaned.
      process.kill(farmd.pid, "SIGKILL");
      expect(await farmd.exited).toEqual({ exitCode: null, signal: "SIGKILL" });
      expect(cmdline(dd.pid)).toEqual(dd.argv); // still copying, now without farmd

      // Without farmd, farmctl says so and exits 69.
      const down = await ctl(slow, ["ops", opId]);
      expect(down.exitCode, down.stderr).toBe(69);
      expect(down.stderr).toContain(`no answer on ${SOCKET}`);

      // The restart: farmd answers at once and shows the operation as recovering while its
      // recovery finds the dd the journal recorded still writing the new LV and kills it
      // (outside systemd nothing else would), then removes the LV.
      farmd = await tb.spawnFarmd(slow);
      await waitGone(dd.pid, "dd");
      const v = await retry("recovery settles", 120_000, async () => {
        const seen = await op(slow, opId);
        return seen.operation.state === "recovering" ? null : seen;
      });
      expect(v.operation.state).toBe("rolled-back");
      expect(v.steps.map((s) => [s.name, s.state])).toEqual([
        ["preflight", "done"],
        ["allocate", "undone"],
        ["snapshot", "undone"],
        ["create-lv", "undone"],
        ["dns", "undone"],
        ["dhcp", "undone"],
        // Ganeti adopted the empty disk before the copy: its instance is removed with the disk.
        ["adopt", "undone"],
        ["copy", "undone"],
        ["firewall", "undone"],
        ["proxy", "undone"],
      ]);
      expect(v.steps.find((s) => s.name === "copy")!.error).toBe(
        "farmd stopped before this step finished",
      );
      expect(farmdLog("crash-slow")).toMatch(
        new RegExp(`op ${opId}: left unfinished by a crash; recovering it`),
      );

      // No gallifrey-dev LV, no snapshot, no instance, no loop, every config byte as before.
      const after = await hostState(tb);
      expect(after.lvs.filter((l) => /^(gallifrey-dev|farm-snap-)/.test(l.name))).toEqual([]);
      expect(after.instances.map((i) => i.name)).not.toContain(TARGET);
      // The DNS record came and went beside the copy: the zone's serial only goes up.
      expect(serialAside(after)).toEqual(serialAside(before));
      expect(withoutSerial(tb.readFile("/etc/bind/db.farm"))).toBe(withoutSerial(zoneBefore));
      for (const path of [
        "/etc/bind/db.farm",
        "/etc/dhcp/dhcpd.conf",
        "/etc/shorewall/rules",
        "/etc/shorewall/params",
      ])
        expect(tb.readFile(path), path).not.toMatch(/farmctl|gallifrey-dev/);
      expect(
        (await tb.run(["ls", "/etc/nginx/sites-available", "/etc/nginx/sites-enabled"])).trim(),
      ).not.toContain("gallifrey-dev");
      // No process of the clone is left (dd, lvm, ...).
      expect(
        (await tb.run(["ps", "-eo", "args"]))
          .split("\n")
          .filter((l) => l.includes(`farm-snap-${opId}`)),
      ).toEqual([]);

      // The inventory holds nothing of it: only the hand-made gallifrey is listed.
      const list = await farmctlJson<{ vms: { name: string; origin: string }[] }>(tb, [
        "list",
        "--config",
        slow,
      ]);
      expect(list.vms.map((r) => [r.name, r.origin])).toEqual([["gallifrey", "hand-made"]]);
      const audit = await ctl(slow, ["audit"]);
      expect(audit.exitCode, audit.stdout + audit.stderr).toBe(0);
      expect(audit.stdout).toContain("clean");
    }, 150_000);

    it("SIGTERM during the copy: farmd exits 0, the clone is interrupted, and resume finishes it", async () => {
      if (!farmd || farmd.exit) farmd = await tb.spawnFarmd(slow);
      const { opId, dd } = await cloneUntilCopying(farmd, slow);

      process.kill(farmd.pid, "SIGTERM");
      expect(await farmd.exited).toEqual({ exitCode: 0, signal: null });
      // farmd aborted its copy before it exited: no dd is left.
      expect(alive(dd.pid)).toBe(false);
      expect(farmdLog("crash-slow")).toMatch(new RegExp(`op ${opId}: ended interrupted`));

      // The next farmd (copying with 1M blocks) keeps an interrupted operation as it is.
      farmd = await tb.spawnFarmd(fast);
      const v = await op(fast, opId);
      expect(v.operation.state).toBe("interrupted");
      expect(v.steps.map((s) => [s.name, s.state])).toEqual([
        ["preflight", "done"],
        ["allocate", "done"],
        ["snapshot", "done"],
        ["create-lv", "done"],
        ["dns", "done"],
        ["dhcp", "done"],
        ["adopt", "done"],
        ["copy", "failed"],
        ["firewall", "done"],
        ["proxy", "done"],
      ]);
      expect(v.steps.find((s) => s.name === "copy")!.error).toContain("interrupted");

      const t0 = Date.now();
      const r = await farmctlJson<{ ok: boolean; result: { ip: string; sshPort: number } }>(tb, [
        "resume",
        opId,
        "--config",
        fast,
      ]);
      console.log(`farmctl resume took ${Date.now() - t0} ms`);
      expect(r.ok).toBe(true);
      expect(r.result).toMatchObject({ ip: "10.10.60.6", sshPort: 22006 });
      expect((await op(fast, opId)).operation.state).toBe("succeeded");

      // The VM works: Ganeti runs it, its disk is a copy of the source's (expectSameGuestDisk), the guest
      // booted from it and got its DHCP lease, and nothing drifted.
      expect((await instances(tb)).find((i) => i.name === TARGET)?.status).toBe("running");
      expect((await lvs(tb)).filter((l) => l.name.startsWith("farm-snap-"))).toEqual([]);
      await expectSameGuestDisk(tb, await lvOf(tb, SOURCE), await lvOf(tb, TARGET));
      const m = readMarker(tb).replace(/[^A-Za-z0-9._:/-]/g, "_");
      const line = await serialLine(tb, TARGET, /^STATUS ip=10\.10\.60\.6 /, 90_000);
      expect(line).toContain(`disk=${m}`);
      expect((await tb.run(["dig", "+short", "@10.10.60.1", TARGET])).trim()).toBe("10.10.60.6");
      const audit = await ctl(fast, ["audit"]);
      expect(audit.exitCode, audit.stdout + audit.stderr).toBe(0);
    }, 240_000);
  },
);
