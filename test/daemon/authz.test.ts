// The per-route rules beyond a route's least role, on a real state database: each role against
// each action, so that removing a rule fails a test.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Identity } from "../../src/api/auth.js";
import type { FarmError } from "../../src/api/errors.js";
import type { ResolvedFarm } from "../../src/api/farm.js";
import {
  authorizeAuditFix,
  authorizeBalloon,
  authorizeStart,
  checkOpOwner,
  globMatch,
  type AuthzState,
} from "../../src/daemon/authz.js";
import { openMemoryDb, type Db } from "../../src/state/db.js";
import { Farms } from "../../src/state/farms.js";
import { Inventory } from "../../src/state/inventory.js";
import { Journal } from "../../src/state/journal.js";
import { spec } from "./farm-helpers.js";
import { who } from "../fakes/identities.js";

const ann = who("cert:ann", "operator");
const bob = who("cert:bob", "operator");
const admin = who("cert:root", "admin");

let db: Db;
let s: AuthzState;
let port = 22100;
beforeEach(() => {
  db = openMemoryDb();
  s = { inventory: new Inventory(db), journal: new Journal(db), farms: new Farms(db) };
});
afterEach(() => db.close());

/** A VM cloned by `owner` (its clone operation done), optionally a farm's member. */
function vmOf(owner: string | null, name: string, farm?: string): string {
  const opId = s.journal.createOperation("clone", name, {}, null, owner);
  s.journal.setOperationState(opId, "succeeded");
  port++;
  s.inventory.reserve(() => ({
    name,
    group: "vm",
    fqdn: `${name}.vm.farm`,
    ip: `10.10.60.${port - 22000}`,
    mac: `aa:00:00:00:00:${(port - 22000).toString(16).padStart(2, "0")}`,
    sshPort: port,
    webName: null,
    memoryBytes: null,
    balloonBytes: null,
    vg: "all",
    lvName: name,
    lvUuid: null,
    diskBytes: null,
    source: "gallifrey",
    opId,
    ...(farm ? { membership: { farm, member: name, spec: {} as never, specHash: "h" } } : {}),
  }));
  return opId;
}

/** The Forbidden a check throws (fails if it passes). */
function refusal(check: () => void): FarmError {
  try {
    check();
  } catch (err) {
    return err as FarmError;
  }
  throw new Error("the check passed; it should have refused");
}

const clone = (source: string, name: string) => ({ source, name });

describe("clone", () => {
  it("an operator clones only from its sources; * is any run of characters", () => {
    const limited = who("cert:ci", "operator", { sources: ["gallifrey", "builder-*"] });
    authorizeStart("clone", clone("gallifrey", "x1"), limited, s);
    authorizeStart("clone", clone("builder-arm64", "x2"), limited, s);
    const e = refusal(() => authorizeStart("clone", clone("production-db", "x3"), limited, s));
    expect(e.code).toBe("forbidden");
    expect(e.exitCode).toBe(77);
    expect(e.message).toBe(
      "cert:ci may clone only from gallifrey, builder-*, not from 'production-db'",
    );
    expect(e.hint).toContain("--sources");
    expect(globMatch("builder-*", "builder-")).toBe(true);
    expect(globMatch("gallifrey", "gallifreyx")).toBe(false);
    expect(globMatch("a.b", "axb")).toBe(false);
  });

  it("an operator's quota counts the VMs it owns and its clones still running", () => {
    const q = who("cert:ci", "operator", { maxVms: 2 });
    vmOf("cert:ci", "ci-1");
    vmOf("cert:other", "other-1");
    authorizeStart("clone", clone("gallifrey", "ci-2"), q, s);
    s.journal.createOperation("clone", "ci-2", {}, null, "cert:ci"); // running: not yet in the inventory
    const e = refusal(() => authorizeStart("clone", clone("gallifrey", "ci-3"), q, s));
    expect(e.message).toBe("cert:ci owns 2 VM(s) and may own 2: 1 more would exceed its quota");
    expect(e.hint).toContain("--max-vms");
  });

  it("an admin clones any source beyond any quota", () => {
    const a = who("cert:root", "admin", { sources: ["none"], maxVms: 0 });
    authorizeStart("clone", clone("production-db", "x"), a, s);
  });
});

describe("destroy and balloon", () => {
  beforeEach(() => void vmOf("cert:ann", "ann-dev"));

  it("the owner may, another operator may not: the message names the owner and the role", () => {
    authorizeStart("destroy", { name: "ann-dev" }, ann, s);
    authorizeBalloon(ann, s, "ann-dev", false);
    const e = refusal(() => authorizeStart("destroy", { name: "ann-dev" }, bob, s));
    expect(e.message).toBe(
      "VM 'ann-dev' belongs to cert:ann: destroy needs that owner or role admin; cert:bob has role operator",
    );
    expect(refusal(() => authorizeBalloon(bob, s, "ann-dev", false)).message).toContain(
      "balloon needs that owner or role admin",
    );
  });

  it("an admin may destroy and balloon anyone's", () => {
    authorizeStart("destroy", { name: "ann-dev" }, admin, s);
    authorizeBalloon(admin, s, "ann-dev", true);
  });

  it("a VM farmctl did not make (hand-made) and --force are admin's", () => {
    expect(refusal(() => authorizeStart("destroy", { name: "gallifrey" }, ann, s)).message).toBe(
      "destroy of VM 'gallifrey' (not made by farmctl) needs role admin; cert:ann has role operator",
    );
    expect(
      refusal(() => authorizeStart("destroy", { name: "ann-dev", force: true }, ann, s)).message,
    ).toContain("destroy --force needs role admin");
    expect(refusal(() => authorizeBalloon(ann, s, "ann-dev", true)).message).toContain(
      "balloon --force needs role admin",
    );
    authorizeStart("destroy", { name: "gallifrey", force: true }, admin, s);
  });

  it("a VM made before owners were kept is admin's", () => {
    vmOf(null, "old");
    expect(refusal(() => authorizeStart("destroy", { name: "old" }, ann, s)).message).toContain(
      "belongs to nobody (made before owners were kept)",
    );
  });
});

describe("cancel, resume, import, audit --fix", () => {
  it("cancel: the operation's owner or an admin", () => {
    const opId = s.journal.createOperation("clone", "ann-2", {}, null, "cert:ann");
    checkOpOwner(ann, s.journal.operation(opId)!);
    checkOpOwner(admin, s.journal.operation(opId)!);
    expect(refusal(() => checkOpOwner(bob, s.journal.operation(opId)!)).message).toBe(
      `operation ${opId} was started by cert:ann: cancelling it needs that owner or role admin; cert:bob has role operator`,
    );
  });

  it("a farm's member operations are the farm operation's owner's", () => {
    const farmOp = s.journal.createOperation("farm-up", "farm:f", {}, null, "cert:ann");
    const child = s.journal.createOperation("clone", "f-a", {}, farmOp);
    expect(s.journal.operation(child)!.owner).toBe("cert:ann");
    checkOpOwner(ann, s.journal.operation(child)!);
    refusal(() => checkOpOwner(bob, s.journal.operation(child)!));
  });

  it("import, fix and audit --fix are admin's", () => {
    for (const kind of ["import", "fix"]) {
      expect(refusal(() => authorizeStart(kind, { name: "gallifrey" }, ann, s)).message).toBe(
        `${kind} needs role admin; cert:ann has role operator`,
      );
      authorizeStart(kind, { name: "gallifrey" }, admin, s);
    }
    expect(refusal(() => authorizeAuditFix(ann)).message).toContain("audit --fix needs role admin");
    authorizeAuditFix(admin);
  });
});

describe("farm up and down", () => {
  const upReq = (name: string, members: Record<string, Record<string, unknown>>) => ({
    ...spec(name, members),
    yes: true,
  });
  const record = (name: string, opId: string) =>
    s.farms.upsert(
      { name, file: "f.toml", specHash: "h", members: [] } as never as ResolvedFarm,
      opId,
    );

  it("a new farm is its first up's owner's; another operator may not up or down it", () => {
    const opId = s.journal.createOperation("farm-up", "farm:web", {}, null, "cert:ann");
    expect(record("web", opId).owner).toBe("cert:ann");
    authorizeStart("farm-up", upReq("web", { a: {} }), ann, s);
    authorizeStart("farm-down", { name: "web", platform: null, force: false, yes: true }, ann, s);
    expect(refusal(() => authorizeStart("farm-up", upReq("web", { a: {} }), bob, s)).message).toBe(
      "farm 'web' belongs to cert:ann: farm up needs that owner or role admin; cert:bob has role operator",
    );
    refusal(() =>
      authorizeStart("farm-down", { name: "web", platform: null, force: false, yes: true }, bob, s),
    );
    authorizeStart("farm-up", upReq("web", { a: {} }), admin, s);
  });

  it("a farm with no record is its members' owner's", () => {
    vmOf("cert:ann", "lost-a", "lost");
    const down = { name: "lost", platform: null, force: false, yes: true };
    authorizeStart("farm-down", down, ann, s);
    expect(refusal(() => authorizeStart("farm-down", down, bob, s)).message).toContain(
      "farm 'lost' belongs to cert:ann",
    );
  });

  it("every member's source must be allowed, and the new members fit the quota", () => {
    const ci = who("cert:ci", "operator", { sources: ["gallifrey"], maxVms: 2 });
    authorizeStart("farm-up", upReq("two", { a: {}, b: {} }), ci, s);
    expect(
      refusal(() =>
        authorizeStart("farm-up", upReq("mixed", { a: {}, b: { source: "db" } }), ci, s),
      ).message,
    ).toBe("cert:ci may clone only from gallifrey, not from 'db'");
    expect(
      refusal(() => authorizeStart("farm-up", upReq("three", { a: {}, b: {}, c: {} }), ci, s))
        .message,
    ).toBe("cert:ci owns 0 VM(s) and may own 2: 3 more would exceed its quota");
    // Members already there are not counted again.
    vmOf("cert:ci", "two-a", "two");
    authorizeStart("farm-up", upReq("two", { a: {}, b: {} }), ci, s);
  });

  it("farm down --force (protected members) is admin's", () => {
    const opId = s.journal.createOperation("farm-up", "farm:web", {}, null, "cert:ann");
    record("web", opId);
    const forced = { name: "web", platform: null, force: true, yes: true };
    expect(refusal(() => authorizeStart("farm-down", forced, ann, s)).message).toContain(
      "farm down --force (protected members) needs role admin",
    );
    authorizeStart("farm-down", forced, admin, s);
  });
});
