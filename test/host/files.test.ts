// RealFiles on a real filesystem: what reaches the disk, in which order, and what a failed write leaves.
import { execa } from "execa";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backupPath, RealFiles, sweepApplyLeftovers } from "../../src/host/files.js";

const FILES_JS = new URL("../../dist/host/files.js", import.meta.url).pathname;

let dir = "";
let mounted = false;
afterEach(async () => {
  if (mounted) await execa("umount", [dir]);
  mounted = false;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

/** Runs RealFiles.apply in a child under strace; returns the file-system calls it made, in order. */
async function tracedApply(target: string, content: string, backups: string): Promise<string[]> {
  const script = `import { RealFiles } from ${JSON.stringify(FILES_JS)};
await new RealFiles(${JSON.stringify(backups)}).apply([{ path: ${JSON.stringify(target)}, content: ${JSON.stringify(content)} }]);`;
  const log = join(dir, "strace.log");
  await execa("strace", [
    "-f",
    "-y", // fds shown with their paths: fsync(21</etc/x>)
    "-e",
    "trace=fsync,fdatasync,rename,renameat,renameat2",
    "-o",
    log,
    "node",
    "--input-type=module",
    "-e",
    script,
  ]);
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l.includes(dir) && /= 0$/.test(l))
    .map((l) => l.replace(/^\d+\s+/, ""));
}

describe("RealFiles.apply", () => {
  it("syncs the temp file, renames it over the target, then syncs the directory", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-files-"));
    const target = join(dir, "conf", "dhcpd.conf");
    const backups = join(dir, "backups");
    await execa("mkdir", [join(dir, "conf")]);
    writeFileSync(target, "old\n");
    const calls = await tracedApply(target, "new\n", backups);
    const tmp = /^fsync\(\d+<(.*\.dhcpd\.conf\.farmctl-[0-9a-f]+)>\)/.exec(calls[0] ?? "")?.[1];
    expect(tmp, calls.join("\n")).toBeDefined();
    const backup = backupPath(backups, target);
    const renameAt = calls.findIndex((c) => c.startsWith("rename") && c.includes(`"${target}"`));
    expect(renameAt).toBeGreaterThan(0);
    // The backup is on disk before the file it saves is replaced; the directory after the rename.
    expect(calls.slice(0, renameAt)).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`^fsync\\(\\d+<${backup}>\\)`))]),
    );
    expect(calls[renameAt]).toContain(`"${tmp}"`);
    expect(calls.slice(renameAt + 1)).toEqual([
      expect.stringMatching(new RegExp(`^fsync\\(\\d+<${join(dir, "conf")}>\\)`)),
    ]);
    expect(readFileSync(target, "utf8")).toBe("new\n");
    expect(readFileSync(backup, "utf8")).toBe("old\n");
    expect(readdirSync(join(dir, "conf"))).toEqual(["dhcpd.conf"]);
  });

  it("a write that does not fit leaves the file as it was, never empty, and no temp file", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-files-"));
    await execa("mount", ["-t", "tmpfs", "-o", "size=64k", "farm-files-test", dir]);
    mounted = true;
    const target = join(dir, "dhcpd.conf");
    writeFileSync(target, "subnet 10.10.60.0 netmask 255.255.255.0 {}\n");
    const files = new RealFiles(join(dir, "backups"));
    await expect(
      files.apply([{ path: target, content: "x".repeat(256 * 1024) }]),
    ).rejects.toMatchObject({ code: "ENOSPC" });
    expect(readFileSync(target, "utf8")).toBe("subnet 10.10.60.0 netmask 255.255.255.0 {}\n");
    expect(readdirSync(dir)).toEqual(["dhcpd.conf"]);
  });

  it("a refused candidate puts nothing in place and leaves no temp file", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-files-"));
    const target = join(dir, "db.farm");
    writeFileSync(target, "old\n");
    const files = new RealFiles(join(dir, "backups"));
    await expect(
      files.apply([{ path: target, content: "bad\n" }], async () => {
        throw new Error("checker refused");
      }),
    ).rejects.toThrow("checker refused");
    expect(readFileSync(target, "utf8")).toBe("old\n");
    expect(readdirSync(dir)).toEqual(["db.farm"]);
  });
});

describe("sweepApplyLeftovers", () => {
  it("removes only the candidate files an apply killed half way left, in the edited dirs", async () => {
    dir = mkdtempSync(join(tmpdir(), "farm-sweep-"));
    const names = [
      "rules",
      ".rules.farmctl-5bd6d0fb", // left by a SIGKILL between the write and the rename
      ".params.farmctl-0a1b2c3d",
      ".rules.farmctl-5bd6d0fb.keep", // not farmd's pattern: an admin's file
      ".rules.farmctl-xyz",
      "rules.farmctl-5bd6d0fb",
    ];
    for (const n of names) writeFileSync(join(dir, n), "x");
    const removed = await sweepApplyLeftovers([dir, dir, join(dir, "absent")]);
    expect(removed.sort()).toEqual(
      [join(dir, ".params.farmctl-0a1b2c3d"), join(dir, ".rules.farmctl-5bd6d0fb")].sort(),
    );
    expect(readdirSync(dir).sort()).toEqual(
      [
        "rules",
        ".rules.farmctl-5bd6d0fb.keep",
        ".rules.farmctl-xyz",
        "rules.farmctl-5bd6d0fb",
      ].sort(),
    );
  });
});
