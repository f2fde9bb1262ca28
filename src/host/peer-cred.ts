// Who is at the other end of an accepted unix socket: Node has no SO_PEERCRED, so the peer's socket
// inode comes from `ss -xpnH` (sock_diag), its holder from ss's process list, checked in /proc.
import { readFile, readlink } from "node:fs/promises";
import type { Socket } from "node:net";
import type { Runner } from "./runner.js";

/** One line of `ss -xpnH`: a unix socket, its peer's inode (0: none) and who holds it. */
export interface SsUnixSocket {
  inode: number;
  peerInode: number;
  /** The processes ss lists as holding it: pid and the fd it has it on. */
  holders: { pid: number; fd: number }[];
}

// Netid State Recv-Q Send-Q Local-Address Port Peer-Address Port [users:((...),...)]; a local
// address (a path) may hold blanks, the columns after it never do.
const LINE = /^u_\S+\s+\S+\s+\d+\s+\d+\s+.*?\s(\d+)\s+\S+\s+(\d+)(?:\s+users:\((.*)\))?\s*$/;

export function parseSsUnix(text: string): SsUnixSocket[] {
  const out: SsUnixSocket[] = [];
  for (const line of text.split("\n")) {
    const m = LINE.exec(line);
    if (!m) continue;
    // A process name is chosen by its process and may itself read `pid=1,fd=3`: holders are
    // candidates, each checked in /proc before it is believed.
    const holders = [...(m[3] ?? "").matchAll(/pid=(\d+),fd=(\d+)/g)].map((h) => ({
      pid: Number(h[1]),
      fd: Number(h[2]),
    }));
    out.push({ inode: Number(m[1]), peerInode: Number(m[2]), holders });
  }
  return out;
}

/** The effective uid on a /proc/<pid>/status's `Uid:` line (real, effective, saved, fs). */
export function statusUid(status: string): number | null {
  const m = /^Uid:\s+\d+\s+(\d+)\s/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** The effective gid and the supplementary groups on a status's `Gid:` and `Groups:` lines. */
export function statusGids(status: string): number[] | null {
  const gid = /^Gid:\s+\d+\s+(\d+)\s/m.exec(status);
  if (!gid) return null;
  const groups = /^Groups:[ \t]*(.*)$/m.exec(status)?.[1]?.trim();
  const all = [Number(gid[1]), ...(groups ? groups.split(/\s+/).map(Number) : [])];
  return [...new Set(all)].sort((a, b) => a - b);
}

/** Who the peer process is, as the kernel holds it: what the socket file's own access check used. */
export interface PeerCred {
  uid: number;
  /** Effective gid and supplementary groups, sorted. */
  gids: number[];
}

export interface PeerCredDeps {
  runner: Runner;
  /** /proc; tests give a directory laid out like it. */
  proc?: string;
}

const socketInode = async (path: string): Promise<number | null> => {
  const m = /^socket:\[(\d+)\]$/.exec(await readlink(path).catch(() => ""));
  return m ? Number(m[1]) : null;
};

/** The fd the server holds the accepted connection on (libuv's pipe handle). */
export function socketFd(socket: Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : null;
}

/**
 * The effective uid and groups of the process at the other end of the connection this process
 * holds on `fd`; null when they cannot be had (peer gone, no ss, holders that differ).
 */
export async function peerCred(fd: number, deps: PeerCredDeps): Promise<PeerCred | null> {
  const proc = deps.proc ?? "/proc";
  const mine = await socketInode(`${proc}/self/fd/${fd}`);
  if (mine === null) return null;
  const r = await deps.runner.run(["ss", "-xpnH"], { readOnly: true, allowFailure: true });
  if (r.exitCode !== 0) return null;
  const sockets = parseSsUnix(r.stdout);
  const peer = sockets.find((s) => s.inode === mine)?.peerInode;
  if (!peer) return null;
  const holders = sockets.find((s) => s.inode === peer)?.holders ?? [];
  const creds = new Map<string, PeerCred>();
  for (const h of holders) {
    // Believed only if that process really holds the peer socket on that fd.
    if ((await socketInode(`${proc}/${h.pid}/fd/${h.fd}`)) !== peer) continue;
    const status = await readFile(`${proc}/${h.pid}/status`, "utf8").catch(() => "");
    const uid = statusUid(status);
    const gids = statusGids(status);
    if (uid !== null && gids !== null) creds.set(`${uid}:${gids.join(",")}`, { uid, gids });
  }
  // A socket shared by processes of different users or groups (passed, inherited) has no one owner.
  return creds.size === 1 ? [...creds.values()][0]! : null;
}
