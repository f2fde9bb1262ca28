// `farm up` checks the whole farm before any copy: the subnet must have an address for every new
// member and the VG room for every new disk plus the snapshots taken at once; refused otherwise,
// with the totals, before any operation exists.
import { describe, expect, it } from "vitest";
import { harness } from "../ops/clone-harness.js";
import { call, farmdFor, spec } from "./farm-helpers.js";

const members = (n: number) =>
  Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, {}]));

describe("the whole-farm check", () => {
  it("refuses a farm the subnet has too few addresses for", async () => {
    // 10.10.60.0/29: hosts .1 to .6, of which host01's zone uses .1 to .5.
    const h = harness(`[network]\nsubnet = "10.10.60.0/29"\n`);
    const { socket, ops } = await farmdFor(h);
    const r = await call(socket, "POST", "/v1/farms/up", {
      request: { ...spec("rel", members(2)), yes: false },
    });
    expect(r.status).toBe(503);
    expect(r.body.error).toMatchObject({ code: "unavailable", details: { need: 2, free: 1 } });
    expect(r.body.error!.message).toContain(
      "farm 'rel' needs 2 new address(es) and SSH port(s); only 1 are free",
    );
    expect(ops.journal.list()).toEqual([]);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("refuses a farm whose disks and snapshots the VG cannot hold at once", async () => {
    const h = harness();
    const { socket, ops } = await farmdFor(h);
    // The simulated VG has 39932M free (40956M less gallifrey's 1 GiB disk): 20 members need
    // 20 disks of 1 GiB and 20 snapshots of 1G.
    const r = await call(socket, "POST", "/v1/farms/up", {
      request: { ...spec("rel", members(20)), yes: false },
    });
    expect(r.status).toBe(503);
    expect(r.body.error!.message).toBe(
      "volume group 'all' has 39932M free; farm 'rel' needs 40G for 20 new disk(s) and their snapshots (1G each, all at once)",
    );
    expect(ops.journal.list()).toEqual([]);
    // Each member alone would fit: the clone's own check passes for one.
    const one = await call(socket, "POST", "/v1/farms/plan", spec("rel", members(1)));
    expect(one.status).toBe(200);
  });
});
