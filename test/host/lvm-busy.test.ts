// LVs tagged with their operation, removal by that tag, and lvremove of an LV still in use
// (lvm2 2.03.16 output recorded on the testbed; "in use" is the stand-in's copy of LVM's message).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { checkTag, Lvm, opTag, parseLvs } from "../../src/host/lvm.js";
import { hostBusyPolicy, type BusyPolicy } from "../../src/host/lvm-remove.js";
import { holdersOf, processArgv, type Holder } from "../../src/host/process.js";
import { LVS_ALL, lvsRecorded } from "../fakes/lvm-recordings.js";
import { ScriptedRunner, failure, recording, type Expectation } from "../fakes/scripted-runner.js";

const GiB = 2 ** 30;
const OP = "1a2b3c4d"; // the operation id in the recordings
const lvs = (c: "tagged" | "untagged") => lvsRecorded(c);
const REMOVE = ["lvremove", "-f", "all/gallifrey-dev"];
const removed: Expectation = { argv: REMOVE, stdout: recording("lvremove-2.03.16-remove.txt") };
const inUse: Expectation = {
  argv: REMOVE,
  stderr: recording("lvremove-2.03.16-in-use-stderr.txt"),
  exitCode: 5,
};
const DEV = "/dev/all/gallifrey-dev";
const dd: Holder = { pid: 4242, argv: ["dd", "if=/dev/all/farm-snap-x", `of=${DEV}`, "bs=1M"] };
const qemu: Holder = { pid: 777, argv: ["qemu-system-x86_64", "-name", "gallifrey-dev"] };

/** A BusyPolicy over a scripted list of holders per scan; logs what removal asked of it. */
function policy(scans: Holder[][], o: Partial<BusyPolicy> = {}) {
  const log: string[] = [];
  const p: BusyPolicy = {
    holders: (device) => {
      log.push(`scan ${device}`);
      return scans.shift() ?? [];
    },
    stopLeftover: async (h) => {
      log.push(`stop ${h.pid}`);
      return h.argv[0] === "dd"; // the real dd check is tried on a real process below
    },
    waitGone: async (pids, ms) => {
      log.push(`wait ${pids.join(",")} ${ms > 0 && ms <= 30_000}`);
      return !pids.includes(qemu.pid);
    },
    pause: async (ms) => void log.push(`pause ${ms}`),
    timeoutMs: 30_000,
    attempts: 4,
    ...o,
  };
  return { p, log };
}

describe("the operation's tag", () => {
  it("is on every LV and snapshot farmd creates, and lvs reports it", async () => {
    const order: string[] = [];
    const r = new ScriptedRunner([
      {
        argv: ["lvcreate", "--yes", "--size", `${GiB}b`, "--name", "gallifrey-dev"].concat([
          "--addtag",
          `farmd_op_${OP}`,
          "all",
        ]),
        stdout: '  Logical volume "gallifrey-dev" created.\n',
        effect: () => void order.push("lvcreate"),
      },
      { ...lvs("tagged"), effect: () => void order.push("lvs") },
    ]);
    const lvm = new Lvm(r, policy([]).p);
    const tags = [opTag(OP)];
    const lv = await lvm.create("all", "gallifrey-dev", GiB, {
      tags,
      onCreated: () => order.push("acted"),
    });
    expect(order).toEqual(["lvcreate", "acted", "lvs"]); // the crash window sits before the read-back
    expect(lv.tags).toEqual([`farmd_op_${OP}`]);
    expect(lvm.snapshotArgv("all", "gallifrey", "farm-snap-1", GiB, tags)).toEqual(
      ["lvcreate", "--snapshot", "--size", `${GiB}b`, "--name", "farm-snap-1"].concat([
        "--addtag",
        `farmd_op_${OP}`,
        "/dev/all/gallifrey",
      ]),
    );
    const snap = parseLvs(recording("lvs-2.03.16-json-vg-tagged.txt")).find((l) =>
      l.name.startsWith("farm-snap-"),
    );
    expect(snap?.tags).toEqual([`farmd_op_${OP}`, "testbed_snapshot_standin"]);
    r.assertDone();
  });

  it("uses LVM's tag characters only, at most 1024 of them", () => {
    expect(checkTag("a".repeat(1024))).toHaveLength(1024);
    for (const bad of ["a".repeat(1025), "a b", "x/y", "-x", "", "tag;rm"])
      expect(() => checkTag(bad)).toThrow(/invalid LVM tag/);
    expect(() => opTag("1a2b 3c")).toThrow(/invalid LVM tag/);
  });
});

describe("removal by the operation's tag", () => {
  it("removes the LV that bears the tag when no UUID was recorded", async () => {
    const r = new ScriptedRunner([lvs("tagged"), removed]);
    await new Lvm(r, policy([]).p).removeChecked("all", "gallifrey-dev", { tag: opTag(OP) });
    r.assertDone();
  });

  it("refuses an LV that bears neither the recorded UUID nor the tag", async () => {
    const r = new ScriptedRunner([lvs("untagged")]);
    const lvm = new Lvm(r, policy([]).p);
    const err = await failure(lvm.removeChecked("all", "gallifrey-dev", { tag: opTag(OP) }));
    expect(err.code).toBe("removal_refused");
    expect(err.message).toBe(
      `LV all/gallifrey-dev has uuid 2B1wHG-JB8k-toAj-DSwt-3HT6-gqeQ-3xFcdf and tags [], not the recorded tag farmd_op_${OP}; nothing removed`,
    );
    expect(r.calls.map((c) => c[0])).toEqual(["lvs"]);
  });
});

describe("an LV still in use", () => {
  it("stops farmd's leftover dd, waits for it to exit, and retries lvremove until LVM lets go", async () => {
    const { p, log } = policy([[dd], [], []]);
    const r = new ScriptedRunner([lvs("tagged"), inUse, removed]);
    const lvm = new Lvm(r, p);
    await lvm.removeChecked("all", "gallifrey-dev", { tag: opTag(OP) }, { stopLeftovers: true });
    expect(log).toEqual([
      `scan ${DEV}`,
      "stop 4242",
      "wait 4242 true", // before the first lvremove
      `scan ${DEV}`, // in use: nobody left to wait for (the kernel still held it)
      "pause 200",
    ]);
    r.assertDone();
  });

  it("names the LV and its holders when it never frees, and removes nothing", async () => {
    const { p, log } = policy([[qemu], [qemu], [qemu], [qemu], [qemu]], { attempts: 3 });
    const r = new ScriptedRunner([lvs("tagged"), inUse, inUse, inUse]);
    const lvm = new Lvm(r, p);
    const err = await failure(
      lvm.removeChecked("all", "gallifrey-dev", { tag: opTag(OP) }, { stopLeftovers: true }),
    );
    expect(err.message).toMatch(
      /^LV all\/gallifrey-dev is still in use after 3 lvremove attempts over \d+ s, held by PID 777 \(qemu-system-x86_64 -name gallifrey-dev\); nothing removed$/,
    );
    expect(err.hint).toBe("stop that process (kill 777), then run the undo again");
    expect(err.details?.holders).toEqual([qemu]);
    expect(log.filter((l) => l.startsWith("stop"))).toEqual([
      "stop 777", // not a dd of this LV: reported, never killed
      "stop 777",
      "stop 777",
    ]);
    expect(log.filter((l) => l.startsWith("wait"))).toEqual(["wait 777 true", "wait 777 true"]);
    r.assertDone();
  });

  it("does not retry what is not 'in use'", async () => {
    const r = new ScriptedRunner([
      lvs("tagged"),
      { argv: REMOVE, stderr: recording("lvremove-2.03.16-missing-stderr.txt"), exitCode: 5 },
    ]);
    const err = await failure(
      new Lvm(r, policy([]).p).removeChecked("all", "gallifrey-dev", { tag: opTag(OP) }),
    );
    expect(err.code).toBe("not_found");
    r.assertDone();
  });
});

describe("holders on this host", () => {
  let dir: string | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  afterEach(() => {
    if (child?.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); // not stopped by the test
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("finds a dd holding a device through /proc, stops it and waits for its exit", async () => {
    dir = mkdtempSync(join(tmpdir(), "lvm-busy-"));
    const device = join(dir, "gallifrey-dev");
    const fifo = join(dir, "fifo");
    writeFileSync(device, "");
    execFileSync("mkfifo", [fifo]);
    // dd opens its input (the "device"), then blocks opening a FIFO that nobody reads.
    child = spawn("dd", [`if=${device}`, `of=${fifo}`], { stdio: "ignore" });
    const exited = once(child, "exit");
    const pid = child.pid!;
    const holding = async () => {
      for (;;) {
        const h = holdersOf(device);
        if (h.length) return h;
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    expect(await holding()).toEqual([{ pid, argv: ["dd", `if=${device}`, `of=${fifo}`] }]);
    expect(await hostBusyPolicy.stopLeftover({ pid, argv: processArgv(pid)! }, "/dev/other")).toBe(
      false,
    );
    expect(await hostBusyPolicy.stopLeftover({ pid, argv: processArgv(pid)! }, device)).toBe(true);
    expect((await exited)[1]).toBe("SIGKILL");
    expect(holdersOf(device)).toEqual([]);
  });
});
