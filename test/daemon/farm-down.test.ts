// `farm down` through farmd's API over the simulated host01: from the record alone, members in
// reverse spec order, protect, a member whose tags and record disagree, --platform, and the
// farm's record dropped once empty.
import { describe, expect, it } from "vitest";
import type { FarmRunResult } from "../../src/api/farm.js";
import { harness, withoutSerial, type Harness } from "../ops/clone-harness.js";
import type { ServedFarmd } from "./farmd-server.js";
import { call, farmdFor, followOp, spec, statuses, up } from "./farm-helpers.js";

let h: Harness;
let served: ServedFarmd | undefined;

const downCall = (request: Record<string, unknown>) =>
  call<{ opId: string }>(served!.socket, "POST", "/v1/farms/down", {
    request: { platform: null, force: false, yes: true, ...request },
  });

/** A refused `farm down`: its status and error. */
async function refusedDown(request: Record<string, unknown>) {
  const r = await downCall(request);
  return { status: r.status, error: r.body.error };
}

async function down(request: Record<string, unknown>) {
  const r = await downCall(request);
  if (r.status !== 202)
    throw new Error(`farm down answered ${r.status}: ${JSON.stringify(r.body)}`);
  const followed = await followOp(served!.client, r.body.opId);
  return { opId: r.body.opId, ...followed, result: followed.end.result as FarmRunResult };
}

describe("farm down", () => {
  it("destroys the members in reverse spec order, refuses a protected one without force", async () => {
    h = harness();
    const before = withoutSerial(h.snapshot());
    served = await farmdFor(h);
    const { socket, client } = served;
    await up(socket, client, spec("rel", { a: { protect: true }, b: {}, c: {} }));
    const asked = await refusedDown({ name: "rel", yes: false });
    expect(asked.status).toBe(409);
    expect(asked.error).toMatchObject({ code: "confirm_needed" });
    expect(asked.error!.message).toContain("rel-c (c, destroy), rel-b (b, destroy)");
    const first = await down({ name: "rel" });
    expect(first.end.state).toBe("failed");
    expect(first.result.members.map((m) => [m.member, m.status])).toEqual([
      ["c", "done"],
      ["b", "done"],
      ["a", "refused"],
    ]);
    expect(first.result.members[2]!.error).toBe(
      "rel-a is protected (protect = true): `farm down --force` destroys it",
    );
    expect(h.journal.children(first.opId).map((c) => `${c.kind} ${c.target}`)).toEqual([
      "destroy rel-c",
      "destroy rel-b",
    ]);
    // The farm keeps its record while a member is left.
    expect((await call(socket, "GET", "/v1/farms")).body).toMatchObject([
      { farm: "rel", members: 1 },
    ]);
    const forced = await down({ name: "rel", force: true });
    expect(forced.end.state).toBe("succeeded");
    expect(statuses(forced.result)).toEqual({ a: "done" });
    expect((await call(socket, "GET", "/v1/farms")).body).toEqual([]);
    const gone = await call(socket, "GET", "/v1/farms/rel");
    expect(gone.status).toBe(404);
    expect(gone.body.error).toMatchObject({ code: "not_found", message: "no farm 'rel'" });
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(withoutSerial(h.snapshot())).toEqual(before);
    expect(await refusedDown({ name: "rel" })).toMatchObject({
      status: 404,
      error: { code: "not_found" },
    });
  });

  it("with --platform, destroys that platform's members only", async () => {
    h = harness();
    served = await farmdFor(h);
    const input = spec("rel", { a: { platform: "p1" }, b: { platform: "p2" } });
    input.spec.platforms = { p1: {}, p2: {} };
    await up(served.socket, served.client, input);
    const r = await down({ name: "rel", platform: "p2" });
    expect(statuses(r.result)).toEqual({ b: "done" });
    expect(h.inventory.members("rel").map((m) => m.member)).toEqual(["a"]);
    const bad = await refusedDown({ name: "rel", platform: "p9" });
    expect(bad.status).toBe(400);
    expect(bad.error!.message).toContain(
      "--platform p9: no member of farm 'rel' has that platform",
    );
  });

  it("refuses a member whose Ganeti tags and inventory record disagree, and goes on with the others", async () => {
    h = harness();
    served = await farmdFor(h);
    await up(served.socket, served.client, spec("rel", { a: {}, b: {} }));
    h.runner.instances.get("rel-a.xivo.vm.farm")!.tags = ["farmctl:farm:other", "farmctl:member:a"];
    const r = await down({ name: "rel" });
    expect(statuses(r.result)).toEqual({ b: "done", a: "refused" });
    expect(r.result.members[1]!.error).toContain("tags and record disagree");
    expect(h.runner.instances.has("rel-a.xivo.vm.farm")).toBe(true);
  });
});
