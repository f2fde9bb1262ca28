// The uid at the other end of a unix socket: recorded `ss -xpnH` over a /proc laid out as the
// recording's host had it, then a real client run as nobody on a real socket.
import { execa } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ExecaRunner } from "../../src/host/runner.js";
import { parseSsUnix, peerUid, socketFd, statusUid } from "../../src/host/peer-cred.js";
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

  it("finds the peer's uid: server fd → inode → peer inode → holder → status", async () => {
    const proc = fakeProc(
      { "self/fd/20": "socket:[2092008]", "12121/fd/18": "socket:[2092007]" },
      { "12121": recording("proc-6.18-status-nobody.txt") },
    );
    const runner = new ScriptedRunner([{ argv: SS, stdout: recording("ss-6.1-xpnH-peer.txt") }]);
    expect(await peerUid(20, { runner, proc })).toBe(65534);
    runner.assertDone();
  });

  it("believes a holder only if /proc shows it holding the peer: a process name cannot claim pid 1", async () => {
    const text = recording("ss-6.1-xpnH-spoofed-name.txt");
    // The client's name makes its line list pid 1, fd 3 before its own pid and fd.
    expect(parseSsUnix(text).find((s) => s.inode === 2093384)!.holders).toEqual([
      { pid: 1, fd: 3 },
      { pid: 12354, fd: 18 },
    ]);
    const root = "Name:\tsystemd\nUid:\t0\t0\t0\t0\n";
    const proc = fakeProc(
      {
        "self/fd/20": "socket:[2093385]",
        "1/fd/3": "anon_inode:[eventpoll]",
        "12354/fd/18": "socket:[2093384]",
      },
      { "1": root, "12354": recording("proc-6.18-status-nobody.txt") },
    );
    const runner = new ScriptedRunner([{ argv: SS, stdout: text }]);
    expect(await peerUid(20, { runner, proc })).toBe(65534);
  });

  it("is null when the peer is gone, ss fails, or holders have different uids", async () => {
    const ss = recording("ss-6.1-xpnH-peer.txt");
    const nobody = recording("proc-6.18-status-nobody.txt");
    const gone = fakeProc({ "self/fd/20": "socket:[2092008]" }, {});
    expect(
      await peerUid(20, { runner: new ScriptedRunner([{ argv: SS, stdout: ss }]), proc: gone }),
    ).toBeNull();
    const failing = new ScriptedRunner([{ argv: SS, exitCode: 1, stderr: "ss: no netlink" }]);
    expect(await peerUid(20, { runner: failing, proc: gone })).toBeNull();
    // The client's socket also held by a root process (inherited): no single owner.
    const shared = ss.replace("pid=12121,fd=18))", 'pid=12121,fd=18),("sh",pid=7,fd=4))');
    const proc = fakeProc(
      {
        "self/fd/20": "socket:[2092008]",
        "12121/fd/18": "socket:[2092007]",
        "7/fd/4": "socket:[2092007]",
      },
      { "12121": nobody, "7": "Uid:\t0\t0\t0\t0\n" },
    );
    expect(
      await peerUid(20, { runner: new ScriptedRunner([{ argv: SS, stdout: shared }]), proc }),
    ).toBeNull();
  });
});

const root = process.getuid?.() === 0;

describe.skipIf(!root)("a real unix socket", () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** Runs a client under setpriv's options; resolves with the uid farmd would see. */
  async function uidOfClient(setpriv: string[]): Promise<number | null> {
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
      const uid = await peerUid(socketFd(socket)!, { runner: new ExecaRunner() });
      socket.end("bye");
      return uid;
    } finally {
      await client;
    }
  }

  it("finds nobody's uid for a client run as nobody", async () => {
    expect(await uidOfClient(["--reuid=65534", "--regid=65534", "--clear-groups"])).toBe(65534);
  });

  it("finds 0 for a client run as root", async () => {
    expect(await uidOfClient([])).toBe(0);
  });
});
