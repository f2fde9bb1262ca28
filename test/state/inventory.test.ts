// The inventory's v4 columns: a VM's variables and farm membership survive a write and a read, and a
// database made before v4 migrates with its VMs intact (vars {}, no farm).
import Database from "better-sqlite3";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FarmMembership } from "../../src/api/clone.js";
import type { MemberSpec } from "../../src/api/farm.js";
import { MIGRATIONS, dbPath, openDb, type Db } from "../../src/state/db.js";
import { Inventory, type NewVm } from "../../src/state/inventory.js";
import { useTempDb } from "./temp-db.js";

const spec: MemberSpec = {
  key: "build-centos7",
  platform: "centos-7",
  name: "rel-3-2-build-centos7",
  source: "builder-centos7",
  group: "staging",
  memory: "4G",
  balloon: "1G",
  web: null,
  start: true,
  protect: false,
  vars: { release: "3.2.0", sysbase: "centos-7" },
};
const membership: FarmMembership = { farm: "rel-3-2", member: spec.key, spec, specHash: "h1" };

function newVm(name: string, n: number, extra: Partial<NewVm> = {}): NewVm {
  return {
    name,
    group: "staging",
    fqdn: `${name}.staging.vm.farm`,
    ip: `10.10.60.${n}`,
    mac: `52:54:00:00:00:0${n}`,
    sshPort: 22000 + n,
    webName: null,
    memoryBytes: 4 << 30,
    balloonBytes: null,
    vg: "all",
    lvName: name,
    lvUuid: null,
    diskBytes: 1 << 30,
    source: "builder-centos7.xivo.vm.farm",
    opId: `op${n}`,
    ...extra,
  };
}

describe("inventory: variables and farm membership", () => {
  const temp = useTempDb("farm-inv-");
  let db: Db;
  let inv: Inventory;
  beforeEach(() => {
    db = temp.db();
    inv = new Inventory(db);
  });

  it("records a member's farm, key, spec and hash with its reservation, and reads them back", () => {
    const made = inv.reserve(() => newVm(spec.name, 6, { vars: spec.vars, membership }));
    expect(made).toMatchObject({ farm: "rel-3-2", member: "build-centos7", vars: spec.vars });
    const read = inv.get(spec.name)!;
    expect(read).toMatchObject({ farm: "rel-3-2", member: "build-centos7", vars: spec.vars });
    expect(inv.members("rel-3-2")).toEqual([
      { farm: "rel-3-2", member: "build-centos7", name: spec.name, spec, specHash: "h1" },
    ]);
    expect(inv.farmOf(spec.name)).toEqual({ farm: "rel-3-2", member: "build-centos7" });
  });

  it("keeps a plain clone's --var values, with no farm", () => {
    inv.reserve(() => newVm("gallifrey-dev", 7, { vars: { git_rev: "abc123" } }));
    expect(inv.get("gallifrey-dev")).toMatchObject({
      vars: { git_rev: "abc123" },
      farm: null,
      member: null,
    });
    expect(inv.farmOf("gallifrey-dev")).toEqual({ farm: null, member: null });
    expect(inv.farmOf("nosuch")).toBeNull();
    expect(inv.members("rel-3-2")).toEqual([]);
  });

  it("lists only the named farm's members", () => {
    inv.reserve(() => newVm("a", 2, { membership }));
    const other = { ...membership, farm: "rel-3-3", member: "web" };
    inv.reserve(() => newVm("b", 3, { membership: other }));
    inv.reserve(() => newVm("c", 4));
    expect(inv.members("rel-3-2").map((m) => m.name)).toEqual(["a"]);
    expect(inv.members("rel-3-3").map((m) => [m.name, m.member])).toEqual([["b", "web"]]);
  });

  it("updates a member in place: spec, hash, vars, memory and balloon, nothing else", () => {
    inv.reserve(() => newVm(spec.name, 6, { vars: spec.vars, membership }));
    const before = inv.get(spec.name)!;
    const spec2 = { ...spec, memory: "6G", vars: { ...spec.vars, release: "3.2.1" } };
    inv.updateMember(spec.name, {
      spec: spec2,
      specHash: "h2",
      vars: spec2.vars,
      memoryBytes: 6 << 30,
      balloonBytes: 1 << 30,
    });
    const after = inv.get(spec.name)!;
    expect(after).toEqual({
      ...before,
      vars: spec2.vars,
      memoryBytes: 6 << 30,
      balloonBytes: 1 << 30,
    });
    expect(inv.members("rel-3-2")[0]).toMatchObject({ spec: spec2, specHash: "h2" });
    // Without memory or balloon given, both stay as they were.
    inv.updateMember(spec.name, { spec, specHash: "h3", vars: spec.vars });
    expect(inv.get(spec.name)).toMatchObject({ memoryBytes: 6 << 30, balloonBytes: 1 << 30 });
  });

  it("refuses to update a VM that is no farm's member", () => {
    inv.reserve(() => newVm("plain", 8));
    expect(() => inv.updateMember("plain", { spec, specHash: "h", vars: {} })).toThrow(
      /not a farm member/,
    );
    expect(inv.get("plain")!.vars).toEqual({});
  });

  it("reads an unreadable stored spec or vars as empty, not as a crash", () => {
    inv.reserve(() => newVm(spec.name, 6, { membership }));
    db.prepare("UPDATE vms SET member_spec = '{', vars = '[1]' WHERE name = ?").run(spec.name);
    expect(inv.get(spec.name)!.vars).toEqual({});
    expect(inv.members("rel-3-2")[0]!.spec).toEqual({});
  });
});

describe("a v3 database migrates to v4", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps its VMs, which read with no vars and no farm, and then take members", () => {
    dir = mkdtempSync(join(tmpdir(), "farm-v3-"));
    const old = new Database(dbPath(dir));
    for (const sql of MIGRATIONS.slice(0, 3)) old.exec(sql);
    old.pragma("user_version = 3");
    old
      .prepare(
        `INSERT INTO vms (name, grp, fqdn, ip, mac, ssh_port, state, created_at, hostname)
         VALUES ('gallifrey-dev', 'xivo', 'gallifrey-dev.xivo.vm.farm', '10.10.60.6',
                 '52:54:00:00:00:06', 22006, 'ready', '2026-11-01T00:00:00.000Z', 'gallifrey-dev')`,
      )
      .run();
    old.close();

    const db = openDb(dir);
    try {
      expect(db.pragma("user_version", { simple: true })).toBe(MIGRATIONS.length);
      const inv = new Inventory(db);
      expect(inv.get("gallifrey-dev")).toMatchObject({
        ip: "10.10.60.6",
        hostname: "gallifrey-dev",
        vars: {},
        farm: null,
        member: null,
      });
      inv.reserve(() => newVm(spec.name, 7, { membership }));
      expect(inv.members("rel-3-2").map((m) => m.name)).toEqual([spec.name]);
    } finally {
      db.close();
    }
  });
});
