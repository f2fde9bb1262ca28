// The harness itself: a failed `up` and a `down` leave no namespace, process, loop device or
// mount behind, and Ganeti's own LVM calls (lvrename, lvchange -ay, lvremove) reach the stand-ins.
import { closeSync, existsSync, openSync, readFileSync, readdirSync, readlinkSync } from "node:fs";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { Testbed, unavailableReason } from "./testbed.js";

const skip = unavailableReason();

/** The testbed's own command, as an admin runs it. */
const SCRIPT = new URL("./testbed.sh", import.meta.url).pathname;

/** Whether `pid`'s namespace of `kind` carries the testbed's token, as testbed.sh's ns_is_ours asks. */
async function carriesToken(pid: string, kind: string, token: string): Promise<boolean> {
  try {
    if (kind === "mnt")
      return readFileSync(`/proc/${pid}/root/etc/farm-testbed.env`, "utf8").includes(
        `FARM_TESTBED_TOKEN=${token}`,
      );
    const lo = await execa("nsenter", [
      `--net=/proc/${pid}/ns/net`,
      "ip",
      "-o",
      "link",
      "show",
      "lo",
    ]);
    return lo.stdout.includes(`farm-testbed ${token}`);
  } catch {
    return false; // gone meanwhile, or not a testbed's namespace
  }
}

/**
 * What is left of a testbed in `dir` whose namespaces had `nsIds` and `token`: loops, processes,
 * netns. A namespace inode is reused once freed (other tests make namespaces meanwhile, e.g. the
 * shorewall checker's), so a process counts only if its namespace also carries the token.
 */
async function leftovers(dir: string, nsIds: string[], token: string) {
  const loops = (await execa("losetup", ["-l", "-n", "-O", "NAME,BACK-FILE"])).stdout
    .split("\n")
    .filter((l) => l.includes(dir));
  const procs: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    for (const ns of ["net", "mnt"]) {
      let id: string;
      try {
        id = readlinkSync(`/proc/${pid}/ns/${ns}`);
      } catch {
        continue; // gone meanwhile
      }
      if (nsIds.includes(id) && (await carriesToken(pid, ns, token))) procs.push(pid);
    }
  }
  const netns = (await execa("ip", ["netns", "list"])).stdout.trim();
  return { loops, procs, netns };
}

const none = { loops: [], procs: [], netns: "" };

describe.skipIf(skip !== null)(`the testbed harness${skip ? ` (SKIPPED: ${skip})` : ""}`, () => {
  const tb = new Testbed();
  const devAllBefore = existsSync("/dev/all");
  let ids: string[] = [];
  let token = "";
  afterAll(() => tb.down(), 300_000);

  it("a failed up takes down everything it made", async () => {
    process.env.FARM_TESTBED_FAIL_AT = "farmd"; // after Ganeti, QEMU and every service started
    try {
      await expect(tb.up()).rejects.toThrow(/failing on purpose at 'farmd'/);
    } finally {
      delete process.env.FARM_TESTBED_FAIL_AT;
    }
    ids = readFileSync(`${tb.dir}/ns.ids`, "utf8").trim().split("\n");
    token = readFileSync(`${tb.dir}/token`, "utf8").trim();
    expect(ids).toHaveLength(3);
    expect(await leftovers(tb.dir, ids, token)).toEqual(none);
    expect(existsSync("/dev/all")).toBe(devAllBefore);
    // its logs are kept, and say where it stopped
    expect(readFileSync(`${tb.dir}/up.phase`, "utf8").trim()).toBe("farmd");
  }, 600_000);

  it("comes up again in the same dir; Ganeti's own LVM calls reach the stand-ins", async () => {
    await tb.up();
    ids = readFileSync(`${tb.dir}/ns.ids`, "utf8").trim().split("\n");
    token = readFileSync(`${tb.dir}/token`, "utf8").trim();
    const source = "gallifrey.xivo.vm.farm";
    // `testbed.sh sh farmctl ...`, as the README shows it, finds farmctl as `enter` does.
    const viaSh = await execa("bash", [SCRIPT, "sh", "farmctl", "--version"], {
      env: { FARM_TESTBED_DIR: tb.dir },
      reject: false,
    });
    expect(viaSh.exitCode, viaSh.stderr).toBe(0);
    expect(viaSh.stdout).toMatch(/^farmctl \d+\.\d+\.\d+/);
    expect(await tb.run(["gnt-instance", "list", "--no-headers", "-o", "name,status"])).toMatch(
      new RegExp(`^${source}\\s+running$`, "m"),
    );
    // Ganeti kills the guest, then lvremoves its (renamed) disk: the stand-in detaches its loop.
    await tb.run(["gnt-instance", "shutdown", "--timeout=0", source], { timeoutMs: 120_000 });
    await tb.run(["gnt-instance", "remove", "-f", source], { timeoutMs: 120_000 });
    expect((await tb.run(["lvs", "--noheadings", "-o", "lv_name", "all"])).trim()).toBe("");
    expect(await tb.run(["ls", "/dev/all"])).toBe("");
    const log = readFileSync(`${tb.dir}/log/lvm-standin.log`, "utf8");
    expect(log).toMatch(/lvrename\[\d+\] argv: lvrename all gallifrey \S+\.disk0/);
    expect(log).toMatch(/lvchange\[\d+\] argv: lvchange -ay \/dev\/all\/\S+\.disk0/);
    expect(log).toMatch(/lvremove\[\d+\] deactivated all\/\S+\.disk0/);
    expect((await leftovers(tb.dir, ids, token)).loops).toHaveLength(1); // the PV's own loop only
  }, 600_000);

  it("lvremove refuses an LV a process holds open, as LVM does; a snapshot keeps the caller's tags", async () => {
    const lvs = async () =>
      (await tb.run(["lvs", "--noheadings", "--separator=:", "-o", "lv_name,lv_tags", "all"]))
        .trim()
        .split(/\s+/)
        .filter((l) => l.startsWith("held")); // the source VM's disk may still be there
    await tb.run("lvcreate --yes --size 8m --name held --addtag farmd_op_t1 all".split(" "));
    const snap =
      "lvcreate --snapshot --size 8m --name held-snap --addtag farmd_op_t1 /dev/all/held";
    await tb.run(snap.split(" "));
    expect(await lvs()).toEqual([
      "held:farmd_op_t1",
      "held-snap:farmd_op_t1,testbed_snapshot_standin",
    ]);
    // This test process holds the LV's device open (the loop is global, the PID namespace shared).
    const fd = openSync(tb.readlink("/dev/all/held"), "r");
    try {
      const r = await tb.exec(["lvremove", "-f", "all/held"]);
      expect(r).toMatchObject({
        exitCode: 5,
        stdout: "",
        stderr: "  Logical volume all/held in use.\n",
      });
      expect(await lvs()).toHaveLength(2);
      expect(tb.readlink("/dev/all/held")).toMatch(/^\/dev\/loop\d+$/);
      expect(readFileSync(`${tb.dir}/log/lvm-standin.log`, "utf8")).toMatch(
        new RegExp(`refused: all/held in use by PID\\(s\\) ${process.pid} `),
      );
    } finally {
      closeSync(fd);
    }
    await tb.run(["lvremove", "-f", "all/held", "all/held-snap"]);
    expect(await lvs()).toEqual([]);
  }, 120_000);

  it("down leaves no namespace, process, loop device, /dev/all or scratch dir", async () => {
    const dir = tb.dir;
    await tb.down();
    expect(existsSync(dir)).toBe(false);
    expect(await leftovers(dir, ids, token)).toEqual(none);
    expect(existsSync("/dev/all")).toBe(devAllBefore);
  }, 300_000);
});
