// Who a socket caller is: root admin; the others operator unless socket_roles maps one of their
// groups (the process's own gid and supplementary groups; names by `getent group`) to a role,
// highest wins; unknown: "uid:?".
import { execa } from "execa";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/api/auth.js";
import { configSchema } from "../../src/config/schema.js";
import {
  gidsOfGroups,
  identifyPeer,
  parseGetentGroup,
  roleOfGroups,
  socketIdentify,
} from "../../src/daemon/identify.js";
import { ExecaRunner, type Runner } from "../../src/host/runner.js";
import { recording, ScriptedRunner } from "../fakes/scripted-runner.js";

const GETENT = recording("getent-group-deb12.txt");
const getent = (names: string[], stdout = GETENT, exitCode = 2) =>
  new ScriptedRunner([{ argv: ["getent", "group", "--", ...names], stdout, exitCode }]);

describe("a socket caller's groups and role", () => {
  it("reads getent group's lines; exit 2 (a name unknown) still answers the others", async () => {
    const want = new Map([
      ["nogroup", 65534],
      ["users", 100],
      ["staff", 50],
    ]);
    expect(parseGetentGroup(GETENT)).toEqual(want);
    const names = ["nogroup", "users", "staff", "no-such-group"];
    expect(await gidsOfGroups(names, getent(names))).toEqual(want);
    expect(await gidsOfGroups(names, getent(names, "", 127))).toBeNull();
    expect(await gidsOfGroups([], new ScriptedRunner([]))).toEqual(new Map());
  });

  it("takes the highest role its groups map to, operator when none is mapped", () => {
    const roles: Record<string, Role> = { users: "reader", "farm-admins": "admin" };
    expect(roleOfGroups(["users", "farm-admins"], roles)).toBe("admin");
    expect(roleOfGroups(["users"], roles)).toBe("reader");
    expect(roleOfGroups(["alice"], roles)).toBe("operator");
    expect(roleOfGroups([], {})).toBe("operator");
  });

  it("root is admin whatever the groups say; an unknown peer is operator uid:?", async () => {
    const none = new ScriptedRunner([]);
    const roles: Record<string, Role> = { root: "reader" };
    expect(await identifyPeer({ uid: 0, gids: [0] }, { roles, runner: none })).toMatchObject({
      owner: "uid:0",
      role: "admin",
    });
    expect(await identifyPeer(null, { roles, runner: none })).toEqual({
      owner: "uid:?",
      role: "operator",
      via: "socket",
      sources: null,
      maxVms: null,
    });
  });

  it("maps the process's gid and supplementary groups, not what /etc/group lists", async () => {
    const roles: Record<string, Role> = {
      users: "reader",
      staff: "admin",
      "no-such-group": "admin",
    };
    const names = Object.keys(roles);
    // Groups: 50 100 (staff, users) of the recorded process: the highest mapped role wins.
    const nobody = { uid: 65534, gids: [50, 100, 65534] };
    expect(await identifyPeer(nobody, { roles, runner: getent(names) })).toMatchObject({
      owner: "uid:65534",
      role: "admin",
    });
    const usersOnly = { uid: 1002, gids: [100] };
    expect(await identifyPeer(usersOnly, { roles, runner: getent(names) })).toMatchObject({
      owner: "uid:1002",
      role: "reader",
    });
    expect(
      await identifyPeer({ uid: 1002, gids: [4242] }, { roles, runner: getent(names) }),
    ).toMatchObject({
      role: "operator",
    });
  });

  it("is operator, said in farmd's log, when getent cannot answer", async () => {
    const logs: string[] = [];
    const roles: Record<string, Role> = { users: "reader" };
    const id = await identifyPeer(
      { uid: 1002, gids: [100] },
      { roles, runner: getent(["users"], "", 127), log: (l, m) => logs.push(`${l}: ${m}`) },
    );
    expect(id).toMatchObject({ owner: "uid:1002", role: "operator" });
    expect(logs).toEqual([
      "warning: socket_roles: `getent group` did not answer: the caller is operator",
    ]);
  });

  it("socket_roles is a farmd.toml key of group names and roles", () => {
    const c = configSchema.parse({ socket_roles: { "farm-admins": "admin", users: "reader" } });
    expect(c.socket_roles).toEqual({ "farm-admins": "admin", users: "reader" });
    expect(configSchema.parse({}).socket_roles).toEqual({});
    expect(() => configSchema.parse({ socket_roles: { users: "root" } })).toThrow();
    expect(() => configSchema.parse({ socket_roles: { "Bad Group": "reader" } })).toThrow();
  });
});

const root = process.getuid?.() === 0;

describe.skipIf(!root)("socketIdentify on a real socket", () => {
  let server: Server;
  let dir: string;
  let lookups = 0;
  const counting: Runner = {
    run: (argv, opts) => {
      lookups++;
      return new ExecaRunner().run(argv, opts);
    },
  };
  const identify = (roles: Record<string, Role>) =>
    socketIdentify({ roles, peer: { runner: counting } });
  let current = identify({});

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "identify-"));
    chmodSync(dir, 0o755);
    server = createServer((req, res) => {
      const need = (req.headers["x-need"] as Role | undefined) ?? "operator";
      void current(req, need).then((id) => res.end(JSON.stringify(id)));
    });
    await new Promise<void>((r) => server.listen(join(dir, "s.sock"), r));
    chmodSync(join(dir, "s.sock"), 0o666);
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  /** One request from a client run as nobody, with the host's groups `groups` (gids) beside nogroup. */
  async function asNobody(method: string, need: Role, groups = "") {
    const script = `require("http").request({ socketPath: ${JSON.stringify(join(dir, "s.sock"))}, method: ${JSON.stringify(method)}, path: "/", headers: { "x-need": ${JSON.stringify(need)} } }, (r) => r.pipe(process.stdout)).end()`;
    const r = await execa(
      "setpriv",
      [
        "--reuid=65534",
        "--regid=65534",
        groups ? `--groups=${groups}` : "--clear-groups",
        process.execPath,
        "-e",
        script,
      ],
      { reject: false },
    );
    return JSON.parse(r.stdout) as { owner: string; role: Role };
  }

  it("is the peer's uid with the role its process's groups map to (the host's getent)", async () => {
    current = identify({ nogroup: "reader" });
    expect(await asNobody("POST", "operator")).toMatchObject({
      owner: "uid:65534",
      role: "reader",
    });
    // Debian's base groups users (100) and staff (50): given to the process, not listed in /etc/group.
    current = identify({ nogroup: "reader", staff: "admin" });
    expect(await asNobody("POST", "operator", "50")).toMatchObject({ role: "admin" });
    expect(await asNobody("POST", "operator")).toMatchObject({ role: "reader" });
    current = identify({ users: "admin" });
    expect(await asNobody("POST", "operator")).toMatchObject({ role: "operator" });
    expect(await asNobody("POST", "operator", "100")).toMatchObject({ role: "admin" });
    current = identify({});
    expect(await asNobody("POST", "operator")).toMatchObject({
      owner: "uid:65534",
      role: "operator",
    });
  });

  it("asks nobody who a GET's caller is when the route needs no more than reader", async () => {
    current = identify({});
    lookups = 0;
    expect(await asNobody("GET", "reader")).toMatchObject({ role: "reader" });
    expect(lookups).toBe(0);
    expect(await asNobody("GET", "admin")).toMatchObject({ owner: "uid:65534", role: "operator" });
    expect(lookups).toBe(1);
  });

  it("is operator uid:? when the peer's uid cannot be found, and farmd's log says so", async () => {
    const logs: string[] = [];
    const noSs: Runner = {
      run: async (argv) => ({ argv, exitCode: 127, stdout: "", stderr: "ss: not found" }),
    };
    current = socketIdentify({
      roles: {},
      peer: { runner: noSs },
      log: (l, m) => logs.push(`${l}: ${m}`),
    });
    expect(await asNobody("POST", "operator")).toMatchObject({ owner: "uid:?", role: "operator" });
    expect(logs).toEqual([
      "warning: a socket caller's uid could not be found (ss -xpnH, /proc): it is operator uid:?",
    ]);
  });
});
