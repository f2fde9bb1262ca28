// Who a socket caller is: root admin; the others operator unless socket_roles maps one of their
// groups (primary from passwd, supplementary from group) to a role, highest wins; unknown: "uid:?".
import { execa } from "execa";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/api/auth.js";
import { configSchema } from "../../src/config/schema.js";
import { groupsOf, identifyUid, roleOfGroups, socketIdentify } from "../../src/daemon/identify.js";
import { ExecaRunner, type Runner } from "../../src/host/runner.js";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "alice:x:1001:1001::/home/alice:/bin/bash",
  "bob:x:1002:100::/home/bob:/bin/bash",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
].join("\n");
const GROUP = [
  "root:x:0:",
  "users:x:100:alice",
  "alice:x:1001:",
  "farm-admins:x:2000:carol,alice",
  "farm-readers:x:2001:bob,nobody",
  "nogroup:x:65534:",
].join("\n");

let etc: string;
beforeAll(() => {
  etc = mkdtempSync(join(tmpdir(), "etc-"));
  writeFileSync(join(etc, "passwd"), PASSWD);
  writeFileSync(join(etc, "group"), GROUP);
});
afterAll(() => rmSync(etc, { recursive: true, force: true }));

describe("a socket caller's groups and role", () => {
  it("has its primary group and the groups listing it", () => {
    expect(groupsOf(1001, PASSWD, GROUP)).toEqual(["users", "alice", "farm-admins"]);
    expect(groupsOf(1002, PASSWD, GROUP)).toEqual(["users", "farm-readers"]);
    expect(groupsOf(4242, PASSWD, GROUP)).toEqual([]);
  });

  it("takes the highest role its groups map to, operator when none is mapped", () => {
    const roles: Record<string, Role> = { users: "reader", "farm-admins": "admin" };
    expect(roleOfGroups(["users", "farm-admins"], roles)).toBe("admin");
    expect(roleOfGroups(["users"], roles)).toBe("reader");
    expect(roleOfGroups(["alice"], roles)).toBe("operator");
    expect(roleOfGroups([], {})).toBe("operator");
  });

  it("root is admin whatever the groups say; an unknown peer is operator uid:?", async () => {
    const roles: Record<string, Role> = { root: "reader" };
    expect(await identifyUid(0, { roles, etc })).toMatchObject({ owner: "uid:0", role: "admin" });
    expect(await identifyUid(null, { roles, etc })).toEqual({
      owner: "uid:?",
      role: "operator",
      via: "socket",
      sources: null,
      maxVms: null,
    });
    expect(await identifyUid(1002, { roles: { users: "reader" }, etc })).toMatchObject({
      owner: "uid:1002",
      role: "reader",
    });
    expect(await identifyUid(1002, { roles: {}, etc })).toMatchObject({ role: "operator" });
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
    socketIdentify({ roles, etc, peer: { runner: counting } });
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

  /** One request from a client run as nobody (uid 65534, group farm-readers in the test's /etc). */
  async function asNobody(method: string, need: Role) {
    const script = `require("http").request({ socketPath: ${JSON.stringify(join(dir, "s.sock"))}, method: ${JSON.stringify(method)}, path: "/", headers: { "x-need": ${JSON.stringify(need)} } }, (r) => r.pipe(process.stdout)).end()`;
    const r = await execa(
      "setpriv",
      ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, "-e", script],
      { reject: false },
    );
    return JSON.parse(r.stdout) as { owner: string; role: Role };
  }

  it("is the peer's uid with the role its groups map to", async () => {
    current = identify({ "farm-readers": "reader" });
    expect(await asNobody("POST", "operator")).toMatchObject({
      owner: "uid:65534",
      role: "reader",
    });
    current = identify({ nogroup: "admin", "farm-readers": "reader" });
    expect(await asNobody("POST", "operator")).toMatchObject({ owner: "uid:65534", role: "admin" });
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
      etc,
      peer: { runner: noSs },
      log: (l, m) => logs.push(`${l}: ${m}`),
    });
    expect(await asNobody("POST", "operator")).toMatchObject({ owner: "uid:?", role: "operator" });
    expect(logs).toEqual([
      "warning: a socket caller's uid could not be found (ss -xpnH, /proc): it is operator uid:?",
    ]);
  });
});
