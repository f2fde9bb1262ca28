// The identity of a request on the unix socket (issue 11): its peer's uid, from peer credentials;
// root is admin, the others (the socket group) operator unless socket_roles maps one of their
// groups (/etc/passwd, /etc/group) to a role; a peer whose uid cannot be had is operator "uid:?".
import { readFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { ROLES, type Identity, type Role } from "../api/auth.js";
import { peerUid, socketFd, type PeerCredDeps } from "../host/peer-cred.js";
import { ExecaRunner } from "../host/runner.js";
import type { Identify } from "./route.js";
import type { Log } from "./operations.js";

export interface SocketIdentifyOptions {
  /** farmd.toml's socket_roles: group name → role. */
  roles: Record<string, Role>;
  peer?: Partial<PeerCredDeps>;
  /** /etc; tests give a directory with their own passwd and group. */
  etc?: string;
  /** farmd's log: a caller whose uid could not be found is said, as it loses root's rights. */
  log?: Log;
}

const socketCaller = (owner: string, role: Role): Identity => ({
  owner,
  role,
  via: "socket",
  sources: null,
  maxVms: null,
});

/** Every socket caller may read: a GET that needs no more asks nobody who it is. */
const READER = socketCaller("uid:?", "reader");

/** The names of the groups a uid is in: its primary group (passwd) and those listing it (group). */
export function groupsOf(uid: number, passwd: string, group: string): string[] {
  const user = passwd
    .split("\n")
    .map((l) => l.split(":"))
    .find((f) => f.length >= 4 && f[2] === String(uid));
  if (!user) return [];
  const [name, , , gid] = user;
  return group
    .split("\n")
    .map((l) => l.split(":"))
    .filter((f) => f.length >= 4 && (f[2] === gid || f[3]!.split(",").includes(name!)))
    .map((f) => f[0]!);
}

/** The highest role socket_roles gives one of the groups; operator when none is mapped. */
export function roleOfGroups(groups: string[], roles: Record<string, Role>): Role {
  const mapped = groups.flatMap((g) => (roles[g] ? [roles[g]] : []));
  if (!mapped.length) return "operator";
  return ROLES[Math.max(...mapped.map((r) => ROLES.indexOf(r)))]!;
}

export async function identifyUid(
  uid: number | null,
  o: Pick<SocketIdentifyOptions, "roles" | "etc">,
): Promise<Identity> {
  if (uid === null) return socketCaller("uid:?", "operator");
  if (uid === 0) return socketCaller("uid:0", "admin");
  const etc = o.etc ?? "/etc";
  const [passwd, group] = await Promise.all(
    ["passwd", "group"].map((f) => readFile(`${etc}/${f}`, "utf8").catch(() => "")),
  );
  return socketCaller(`uid:${uid}`, roleOfGroups(groupsOf(uid, passwd!, group!), o.roles));
}

/** One lookup per connection: its peer does not change while it is open. */
export function socketIdentify(o: SocketIdentifyOptions): Identify {
  const known = new WeakMap<Socket, Promise<Identity>>();
  const deps: PeerCredDeps = { runner: o.peer?.runner ?? new ExecaRunner(), proc: o.peer?.proc };
  return (req, need) => {
    if (req.method === "GET" && need === "reader") return Promise.resolve(READER);
    let identity = known.get(req.socket);
    if (!identity) {
      const fd = socketFd(req.socket);
      identity = (fd === null ? Promise.resolve(null) : peerUid(fd, deps))
        .catch(() => null)
        .then((uid) => {
          if (uid === null)
            o.log?.(
              "warning",
              "a socket caller's uid could not be found (ss -xpnH, /proc): it is operator uid:?",
            );
          return identifyUid(uid, o);
        });
      known.set(req.socket, identity);
    }
    return identity;
  };
}
