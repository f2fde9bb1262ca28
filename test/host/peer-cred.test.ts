// The uid and groups at the other end of a unix socket: recorded `ss -xpnH` over a /proc laid out as the
// recording's host had it, then a real client run as nobody on a real socket.
import { execa } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExecaRunner } from "../../src/host/runner.js";
import {
  parseSsUnix,
  peerCred,
  socketFd,
  statusGids,
  statusUid,
  type PeerCred,
} from "../../src/host/peer-cred.js";
import { recording, ScriptedRunner } from "../fakes/scripted-runner.js";

const SS = ["ss", "-xpnH"];
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A /proc with the links and status files the recording's processes had. */
function fakeProc(links: Record<string, string>, statuses: Record<string, string>): string {
  const proc = mkdtempSync(join(tmpdir(), "proc-"));
  dirs.push(proc);
  for (const [path, target] of Object.entries(links)) {
    mkdirSync(join(proc, path, ".."), { recursive: true });
    symlinkSync(target, join(proc, path));
  }
  for (const [pid, text] of Object.entries(statuses))
    writeFileSync(join(proc, pid, "status"), text);
  return proc;
}

describe("ss -xpnH, recorded", () => {
  it("gives each socket's inode, its peer's and its holders", () => {
    const sockets = parseSsUnix(recording("ss-6.1-xpnH-peer.txt"));
    expect(sockets).toHaveLength(24);
    expect(sockets.find((s) => s.inode === 2092008)).toEqual({
      inode: 2092008,
      peerInode: 2092007,
      holders: [{ pid: 12110, fd: 20 }],
    });
    expect(sockets.find((s) => s.inode === 2092007)!.holders).toEqual([{ pid: 12121, fd: 18 }]);
  });

  it("reads the effective uid of /proc/<pid>/status", () => {
    expect(statusUid(recording("proc-6.18-status-nobody.txt"))).toBe(65534);
    expect(statusUid("Name:\tx\nUid:\t1000\t0\t0\t0\n")).toBe(0);
    expect(statusUid("Name:\tx\n")).toBeNull();
  });

  it("reads the effective gid and the supplementary groups of /proc/<pid>/status", () => {
    expect(statusGids(recording("proc-6.18-status-nobody.txt"))).toEqual([65534]);
    expect(statusGids(recording("proc-6.18-status-nobody-groups.txt"))).toEqual([50, 100, 65534]);
    expect(statusGids("Gid:\t1000\t27\t27\t27\nGroups:\t27 100\n")).toEqual([27, 100]);
    expect(statusGids("Name:\tx\nGroups:\t27\n")).toBeNull();
  });

  it("finds the peer's uid: server fd → inode → peer inode → holder → status", async () => {
    const proc = fakeProc(
      { "self/fd/20": "socket:[2092008]", "12121/fd/18": "socket:[2092007]" },
      { "12121": recording("proc-6.18-status-nobody.txt") },
    );
    const runner = new ScriptedRunner([{ argv: SS, stdout: recording("ss-6.1-xpnH-peer.txt") }]);
    expect(await peerCred(20, { runner, proc })).toEqual({ uid: 65534, gids: [65534] });
    runner.assertDone();
  });

  it("believes a holder only if /proc shows it holding the peer: a process name cannot claim pid 1", async () => {
    const text = recording("ss-6.1-xpnH-spoofed-name.txt");
    // The client's name makes its line list pid 1, fd 3 before its own pid and fd.
    expect(parseSsUnix(text).find((s) => s.inode === 2093384)!.holders).toEqual([
      { pid: 1, fd: 3 },
      { pid: 12354, fd: 18 },
    ]);
    const root = "Name:\tsystemd\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
    const proc = fakeProc(
      {
        "self/fd/20": "socket:[2093385]",
        "1/fd/3": "anon_inode:[eventpoll]",
        "12354/fd/18": "socket:[2093384]",
      },
      { "1": root, "12354": recording("proc-6.18-status-nobody.txt") },
    );
    const runner = new ScriptedRunner([{ argv: SS, stdout: text }]);
    expect(await peerCred(20, { runner, proc })).toEqual({ uid: 65534, gids: [65534] });
  });

  it("is null when the peer is gone, ss fails, or holders have different uids or groups", async () => {
    const ss = recording("ss-6.1-xpnH-peer.txt");
    const nobody = recording("proc-6.18-status-nobody.txt");
    const gone = fakeProc({ "self/fd/20": "socket:[2092008]" }, {});
    expect(
      await peerCred(20, { runner: new ScriptedRunner([{ argv: SS, stdout: ss }]), proc: gone }),
    ).toBeNull();
    const failing = new ScriptedRunner([{ argv: SS, exitCode: 1, stderr: "ss: no netlink" }]);
    expect(await peerCred(20, { runner: failing, proc: gone })).toBeNull();
    // The client's socket also held by pid 7 (inherited): the peer is known only if both agree.
    const shared = ss.replace("pid=12121,fd=18))", 'pid=12121,fd=18),("sh",pid=7,fd=4))');
    const links = {
      "self/fd/20": "socket:[2092008]",
      "12121/fd/18": "socket:[2092007]",
      "7/fd/4": "socket:[2092007]",
    };
    const withPid7 = async (status: string) =>
      peerCred(20, {
        runner: new ScriptedRunner([{ argv: SS, stdout: shared }]),
        proc: fakeProc(links, { "12121": nobody, "7": status }),
      });
    expect(await withPid7(nobody)).toEqual({ uid: 65534, gids: [65534] });
    expect(await withPid7("Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")).toBeNull();
    // One uid, other groups: whose groups the request has is not known either.
    expect(await withPid7(recording("proc-6.18-status-nobody-groups.txt"))).toBeNull();
  });
});

const root = process.getuid?.() === 0;

describe.skipIf(!root)("a real unix socket", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** Runs a client under setpriv's options; resolves with the credentials farmd would see. */
  async function credOfClient(setpriv: string[]): Promise<PeerCred | null> {
    const dir = mkdtempSync(join(tmpdir(), "peer-"));
    dirs.push(dir);
    chmodSync(dir, 0o755);
    const path = join(dir, "s.sock");
    const accepted = new Promise<Socket>((resolve) => {
      server = createServer(resolve);
      server.listen(path, () => chmodSync(path, 0o666));
    });
    await new Promise((r) => server!.once("listening", r));
    const script = `const s = require("net").connect(${JSON.stringify(path)}); s.on("data", () => s.end())`;
    const client = execa("setpriv", [...setpriv, process.execPath, "-e", script], {
      reject: false,
    });
    try {
      const socket = await accepted;
      const cred = await peerCred(socketFd(socket)!, { runner: new ExecaRunner() });
      socket.end("bye");
      return cred;
    } finally {
      await client;
    }
  }

  it("finds nobody's uid and groups for a client run as nobody", async () => {
    const nobody = ["--reuid=65534", "--regid=65534"];
    expect(await credOfClient([...nobody, "--clear-groups"])).toEqual({
      uid: 65534,
      gids: [65534],
    });
    expect(await credOfClient([...nobody, "--groups=100,50"])).toEqual({
      uid: 65534,
      gids: [50, 100, 65534],
    });
  });

  it("finds 0 for a client run as root", async () => {
    expect((await credOfClient([]))?.uid).toBe(0);
  });
});
