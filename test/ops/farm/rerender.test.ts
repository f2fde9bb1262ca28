// A variable update's rewrites as the journal keeps them: a farm operation cut short (crash,
// cancel) before the member's record got the new variables has its rewritten blocks put back by
// the members step's undo; once the record has them, the undo leaves the files as the record says.
import { describe, expect, it } from "vitest";
import type { FarmDeps } from "../../../src/ops/farm/deps.js";
import { rerenderHost, undoUnrecorded } from "../../../src/ops/farm/rerender.js";
import { withoutSerial, type Harness } from "../clone-harness.js";
import { devMember } from "../farm-member.js";
import { withOverrides } from "../template-overrides.js";

/** gallifrey-dev cloned as member `dev` with release 3.2.0, its zone record and site printing it. */
async function cloned(): Promise<Harness> {
  const h = withOverrides({
    "zone-record.njk": "{{ zoneName }}\tIN\tA\t{{ ip }} ; {{ vars.release }}\n",
    "nginx-site.njk":
      "server {\n server_name {{ webName }};\n # {{ vars.release }}\n location / { proxy_pass http://{{ fqdn }}; }\n}\n",
  });
  await h.clone({ vars: { release: "3.2.0" }, farm: devMember({ release: "3.2.0" }) });
  return h;
}

/** Rewrites for release 3.2.1 as `farm up` does, its journal kept in `data`; the record not updated. */
async function rewritten(h: Harness, data: Record<string, unknown>) {
  const deps = h.deps() as unknown as FarmDeps;
  const record = (d: Record<string, unknown>) => Object.assign(data, structuredClone(d));
  const vm = h.inventory.get("gallifrey-dev")!;
  const r = await rerenderHost({ opId: "op", deps, record }, "dev", vm, { release: "3.2.1" });
  return { r, deps, record };
}

const text = (h: Harness) => [...h.snapshot().values()].join("\n");

describe("the members step's undo of a variable update", () => {
  it("puts back the blocks rewritten for variables the record never got, once", async () => {
    const h = await cloned();
    const before = withoutSerial(h.snapshot());
    const data: Record<string, unknown> = {};
    const { r, deps, record } = await rewritten(h, data);
    expect(r.families).toEqual(["dns", "proxy"]);
    expect(text(h)).toContain("; 3.2.1\n");
    expect(text(h)).toContain(" # 3.2.1\n");
    expect(data["rerender:dev"]).toMatchObject({ state: "rewriting", vm: "gallifrey-dev" });
    // farmd crashed here: the record still has 3.2.0.
    await undoUnrecorded(deps, data, record);
    expect(withoutSerial(h.snapshot())).toEqual(before);
    expect(data["rerender:dev"]).toMatchObject({ state: "undone" });
    h.runner.calls.length = 0;
    await undoUnrecorded(deps, data, record);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("leaves the blocks of a member whose record has the new variables", async () => {
    const h = await cloned();
    const data: Record<string, unknown> = {};
    const { deps, record } = await rewritten(h, data);
    // The record was updated, then farmd crashed before the journal said so.
    const spec = { ...devMember({ release: "3.2.1" }).spec, vars: { release: "3.2.1" } };
    h.inventory.updateMember("gallifrey-dev", { spec, specHash: "h2", vars: spec.vars });
    const after = h.snapshot();
    h.runner.calls.length = 0;
    await undoUnrecorded(deps, data, record);
    expect(h.snapshot()).toEqual(after);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("does nothing for an update whose record was written", async () => {
    const h = await cloned();
    const data: Record<string, unknown> = {};
    const { r, deps, record } = await rewritten(h, data);
    r.recorded();
    expect(data["rerender:dev"]).toMatchObject({ state: "recorded" });
    const after = h.snapshot();
    await undoUnrecorded(deps, data, record);
    expect(h.snapshot()).toEqual(after);
  });
});
