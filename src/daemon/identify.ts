// The identity of a request on the unix socket (issue 11): its peer's uid and groups, from peer
// credentials; root is admin, the others (the socket group) operator unless socket_roles maps one of
// their groups to a role. The groups are the process's own, as the kernel holds them (those the
// socket file's access check used); socket_roles' names resolve by NSS (`getent group`: LDAP and
// sssd groups count). A peer whose credentials cannot be had is operator "uid:?".
import type { Socket } from "node:net";
import { ROLES, type Identity, type Role } from "../api/auth.js";
import { peerCred, socketFd, type PeerCred, type PeerCredDeps } from "../host/peer-cred.js";
import { ExecaRunner, type Runner } from "../host/runner.js";
import type { Identify } from "./route.js";
import type { Log } from "./operations.js";

export interface SocketIdentifyOptions {
  /** farmd.toml's socket_roles: group name → role. */
  roles: Record<string, Role>;
  /** ss and getent run through it; tests give their own. */
  peer?: Partial<PeerCredDeps>;
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

/** `getent group NAME...`'s lines (name:password:gid:members) as name → gid. */
export function parseGetentGroup(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [name, , gid] = line.split(":");
    if (name && gid && /^\d+$/.test(gid)) out.set(name, Number(gid));
  }
  return out;
}

/** The gids of the named groups by NSS; null when getent could not answer (2: some are unknown). */
export async function gidsOfGroups(
  names: string[],
  runner: Runner,
): Promise<Map<string, number> | null> {
  if (!names.length) return new Map();
  const r = await runner.run(["getent", "group", "--", ...names], {
    readOnly: true,
    allowFailure: true,
  });
  return r.exitCode === 0 || r.exitCode === 2 ? parseGetentGroup(r.stdout) : null;
}

/** The highest role socket_roles gives one of the groups; operator when none is mapped. */
export function roleOfGroups(groups: string[], roles: Record<string, Role>): Role {
  const mapped = groups.flatMap((g) => (roles[g] ? [roles[g]] : []));
  if (!mapped.length) return "operator";
  return ROLES[Math.max(...mapped.map((r) => ROLES.indexOf(r)))]!;
}

export async function identifyPeer(
  cred: PeerCred | null,
  o: { roles: Record<string, Role>; runner: Runner; log?: Log },
): Promise<Identity> {
  if (cred === null) return socketCaller("uid:?", "operator");
  if (cred.uid === 0) return socketCaller("uid:0", "admin");
  const gids = await gidsOfGroups(Object.keys(o.roles), o.runner);
  if (gids === null)
    o.log?.("warning", "socket_roles: `getent group` did not answer: the caller is operator");
  const groups = [...(gids ?? [])].filter(([, gid]) => cred.gids.includes(gid)).map(([n]) => n);
  return socketCaller(`uid:${cred.uid}`, roleOfGroups(groups, o.roles));
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
      identity = (fd === null ? Promise.resolve(null) : peerCred(fd, deps))
        .catch(() => null)
        .then((cred) => {
          if (cred === null)
            o.log?.(
              "warning",
              "a socket caller's uid could not be found (ss -xpnH, /proc): it is operator uid:?",
            );
          return identifyPeer(cred, { roles: o.roles, runner: deps.runner, log: o.log });
        });
      known.set(req.socket, identity);
    }
    return identity;
  };
}
