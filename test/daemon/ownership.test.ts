// Ownership and the audit log through farmd's API over the simulated host01: who asked is recorded
// as the owner of the operation, the VM, a farm and its members; another operator is refused (403,
// exit 77) and every request that is not a GET leaves one audit line, answered or refused.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AuditEntry, Identity } from "../../src/api/auth.js";
import type { VmDetail, VmRow } from "../../src/api/inventory.js";
import { harness } from "../ops/clone-harness.js";
import { who } from "../fakes/identities.js";
import { call, farmdFor, followOp, spec, up } from "./farm-helpers.js";

const ANN = who("cert:ann", "operator", { sources: ["gallifrey"], maxVms: 3 });
const BOB = who("cert:bob", "operator");
const READER = who("cert:ro", "reader");

/** A farmd whose callers are whoever `as()` last named (the TLS listener's verified identity). */
async function farmdAs() {
  const h = harness();
  let current: Identity = ANN;
  const served = await farmdFor(h, 2, { identify: async () => current });
  const as = (id: Identity) => (current = id);
  const post = (path: string, body: unknown) =>
    call<{ opId: string }>(served.socket, "POST", path, body);
  const auditLines = () =>
    readFileSync(join(h.root, "state", "audit.log"), "utf8")
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEntry);
  return { h, served, as, post, auditLines };
}

describe("ownership", () => {
  it("a clone is its caller's: the operation, the VM in list and show; another operator may not destroy it", async () => {
    const { served, as, post } = await farmdAs();
    const clone = await post("/v1/clone", {
      request: { source: "gallifrey", name: "ann-dev", lease: "2h" },
    });
    expect(clone.status).toBe(202);
    expect((await followOp(served.client, clone.body.opId)).end.state).toBe("succeeded");
    expect(served.ops.journal.operation(clone.body.opId)!.owner).toBe("cert:ann");
    const rows = (await call<{ vms: VmRow[] }>(served.socket, "GET", "/v1/vms")).body.vms;
    expect(rows.find((r) => r.name === "ann-dev")!.owner).toBe("cert:ann");
    expect(rows.find((r) => r.name === "gallifrey")!.owner).toBeNull(); // hand-made
    const show = await call<VmDetail>(served.socket, "GET", "/v1/vms/ann-dev");
    expect(show.body.vm.owner).toBe("cert:ann");

    as(BOB);
    const refused = await post("/v1/destroy", { request: { name: "ann-dev" } });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "forbidden", exitCode: 77 });
    expect(refused.body.error!.message).toContain("VM 'ann-dev' belongs to cert:ann");
    const cancel = await post(`/v1/operations/${clone.body.opId}/cancel`, {});
    expect(cancel.status).toBe(403);
    expect((await post("/v1/vms/ann-dev/balloon", { size: "1G" })).status).toBe(403);
    const renew = await post("/v1/vms/ann-dev/renew", { lease: "1h" });
    expect(renew.status).toBe(403);
    expect(renew.body.error!.message).toContain("renew needs that owner or role admin");

    as(READER);
    const read = await post("/v1/clone", { request: { source: "gallifrey", name: "ro-dev" } });
    expect(read.status).toBe(403);
    expect(read.body.error!.message).toBe(
      "POST /v1/clone needs role operator; cert:ro has role reader",
    );

    as(ANN);
    const source = await post("/v1/clone", { request: { source: "ann-dev", name: "ann-2" } });
    expect(source.body.error!.message).toBe(
      "cert:ann may clone only from gallifrey, not from 'ann-dev'",
    );
    expect((await post("/v1/vms/ann-dev/renew", { lease: "1h" })).status).toBe(200);
    const destroy = await post("/v1/destroy", { request: { name: "ann-dev" } });
    expect(destroy.status).toBe(202);
    expect((await followOp(served.client, destroy.body.opId)).end.state).toBe("succeeded");
    expect(served.ops.journal.operation(destroy.body.opId)!.owner).toBe("cert:ann");
  });

  it("a farm's record and its members (VMs and operations) are the farm operation's caller's", async () => {
    const { served, as, post } = await farmdAs();
    const { opId, end } = await up(served.socket, served.client, spec("rel", { a: {}, b: {} }));
    expect(end.state).toBe("succeeded");
    expect(served.ops.farms.get("rel")!.owner).toBe("cert:ann");
    const children = served.ops.journal.children(opId);
    expect(children.map((c) => c.owner)).toEqual(["cert:ann", "cert:ann"]);
    expect(["rel-a", "rel-b"].map((n) => served.ops.inventory.get(n)!.owner)).toEqual([
      "cert:ann",
      "cert:ann",
    ]);
    // Its quota (3) counts the two members: a farm of two more is refused before any change.
    const more = await post("/v1/farms/up", {
      request: { ...spec("two", { a: {}, b: {} }), yes: true },
    });
    expect(more.status).toBe(403);
    expect(more.body.error!.message).toBe(
      "cert:ann owns 2 VM(s) and may own 3: 2 more would exceed its quota",
    );
    as(BOB);
    const down = await post("/v1/farms/down", {
      request: { name: "rel", platform: null, force: false, yes: true },
    });
    expect(down.status).toBe(403);
    expect(down.body.error!.message).toContain("farm 'rel' belongs to cert:ann");
  });
});

describe("the audit log", () => {
  it("has one line per request that is not a GET, answered or refused, in the state dir (0640) and farmd's log", async () => {
    const { h, served, as, post, auditLines } = await farmdAs();
    const before = new Date().toISOString();
    const clone = await post("/v1/clone", {
      request: { source: "gallifrey", name: "ann-dev", lease: "2h" },
    });
    await followOp(served.client, clone.body.opId);
    await call(served.socket, "GET", "/v1/vms");
    as(BOB);
    await post("/v1/destroy", { request: { name: "ann-dev" } });
    await post("/v1/audit", { fix: true });

    const lines = auditLines();
    expect(
      lines.map((e) => [e.owner, e.role, e.method, e.route, e.target, e.status, e.code]),
    ).toEqual([
      ["cert:ann", "operator", "POST", "/v1/clone", "ann-dev", 202, null],
      ["cert:bob", "operator", "POST", "/v1/destroy", "ann-dev", 403, "forbidden"],
      ["cert:bob", "operator", "POST", "/v1/audit", null, 403, "forbidden"],
    ]);
    expect(lines[0]!.opId).toBe(clone.body.opId);
    expect(lines[0]!.via).toBe("tls");
    expect(lines[0]!.time >= before).toBe(true);
    expect(statSync(join(h.root, "state", "audit.log")).mode & 0o777).toBe(0o640);
    expect(served.logs).toContain(
      `warning: audit: cert:bob (operator, tls) POST /v1/destroy ann-dev: 403 forbidden`,
    );
    expect(served.logs).toContain(
      `info: audit: cert:ann (operator, tls) POST /v1/clone ann-dev: 202 op ${clone.body.opId}`,
    );

    // GET /v1/log gives them back to any reader, from `since`, the last `limit`.
    as(READER);
    const all = await call<{ entries: AuditEntry[] }>(served.socket, "GET", "/v1/log");
    expect(all.body.entries).toEqual(lines);
    const last = await call<{ entries: AuditEntry[] }>(served.socket, "GET", "/v1/log?limit=1");
    expect(last.body.entries).toEqual(lines.slice(-1));
    const since = await call<{ entries: AuditEntry[] }>(
      served.socket,
      "GET",
      `/v1/log?since=${encodeURIComponent(lines[1]!.time)}`,
    );
    expect(since.body.entries).toEqual(lines.slice(1));
    // audit --fix runs as an operation of its caller's.
    as(who("cert:root", "admin"));
    expect((await post("/v1/audit", { fix: true })).status).toBe(200);
    const fix = served.ops.journal.list().find((o) => o.kind === "fix")!;
    expect(fix.owner).toBe("cert:root");
    expect(auditLines().at(-1)).toMatchObject({
      owner: "cert:root",
      route: "/v1/audit",
      status: 200,
    });
    as(READER);
    const bad = await call(served.socket, "GET", "/v1/log?since=yesterday");
    expect(bad.status).toBe(400);
    expect(auditLines()).toHaveLength(4); // GETs are not logged
  });
});
