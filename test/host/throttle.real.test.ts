// The cgroup v1 throttle for real: farmd's Copier copies between two loop devices with a write
// limit, through this kernel's blkio.throttle; the achieved rate must be the limit within 10 %.
import { execa } from "execa";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import { Copier } from "../../src/host/copy.js";
import { ExecaRunner } from "../../src/host/runner.js";
import { CGROUP_PREFIX } from "../../src/host/throttle/cgroup.js";
import { chooseMechanism, Throttler } from "../../src/host/throttle/choose.js";

const BLKIO = "/sys/fs/cgroup/blkio";
const usable =
  process.getuid?.() === 0 &&
  existsSync(`${BLKIO}/blkio.throttle.write_bps_device`) &&
  chooseMechanism().name === "cgroup-v1";
const SIZE = 64 * 2 ** 20;
// 4 s for the whole disk; far below what a loop device does even on a busy machine
const LIMIT = 16 * 2 ** 20;

describe.skipIf(!usable)("cgroup v1 blkio throttle on loop devices", () => {
  let dir = "";
  const loops: string[] = [];
  const ours = (): string[] =>
    readdirSync(BLKIO).filter(
      (n) => n.startsWith(CGROUP_PREFIX) && loops.some((l) => n.includes(l.slice(5))),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "farmctl-throttle-real-"));
    for (const name of ["src.img", "dst.img"]) {
      const file = join(dir, name);
      await execa("truncate", ["-s", String(SIZE), file]);
      loops.push((await execa("losetup", ["--find", "--show", file])).stdout.trim());
    }
  });

  // loop devices and cgroups go even when a test failed; only the ones this file made
  afterAll(async () => {
    for (const cg of ours()) rmdirSync(join(BLKIO, cg));
    for (const l of loops) await execa("losetup", ["-d", l], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  const copier = () =>
    new Copier(new ExecaRunner(), { blockSize: "1M", ioniceClass: 3, throttler: new Throttler() });

  it("holds dd at or under the limit (10 % slack) and removes its cgroup", async () => {
    const events: OpEvent[] = [];
    const blkioOf = (pid: number | "self") =>
      /^\d+:blkio:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, "utf8"))?.[1];
    const farmdBefore = blkioOf("self");
    let ddCgroup: string | undefined;
    const report = await copier().copy(
      loops[0]!,
      loops[1]!,
      SIZE,
      (e) => events.push(e),
      undefined,
      (pid) => (ddCgroup = blkioOf(pid)),
      { bwlimit: LIMIT },
    );
    expect(ddCgroup).toMatch(new RegExp(`^/${CGROUP_PREFIX}`));
    expect(blkioOf("self")).toBe(farmdBefore);
    const achieved = report!.bytes / (report!.ms / 1000);
    console.log(
      `cgroup-v1: limit ${LIMIT} B/s, achieved ${Math.round(achieved)} B/s (${(achieved / LIMIT).toFixed(3)})`,
    );
    expect(report!.throttle).toMatchObject({ mechanism: "cgroup-v1", limitBytesPerSec: LIMIT });
    // A throttle's promise: never faster than the limit. How close it comes is a benchmark figure
    // (copy.bench.ts, "throttle error"): on a busy machine the disk itself may be slower.
    expect(achieved / LIMIT).toBeLessThanOrEqual(1.1);
    // born in the cgroup: not one byte escaped the limit
    expect(report!.throttle!.unthrottledBytes).toBe(0);
    expect(report!.throttle!.detail).toContain("dd forked inside it");
    const said = events.filter((e) => e.type === "copy-throttle");
    expect(said).toEqual([{ type: "copy-throttle", ...report!.throttle }]);
    expect(events.filter((e) => e.type === "copy-progress").length).toBeGreaterThan(1);
    expect(ours()).toEqual([]);
  });

  it("removes its cgroup when the copy is cancelled", async () => {
    const ac = new AbortController();
    const copying = copier().copy(
      loops[0]!,
      loops[1]!,
      SIZE,
      (e) => e.type === "copy-progress" && ac.abort(new Error("cancelled")),
      ac.signal,
      undefined,
      { bwlimit: 8 * 2 ** 20 },
    );
    await expect(copying).rejects.toThrow();
    expect(ours()).toEqual([]);
  });
});
