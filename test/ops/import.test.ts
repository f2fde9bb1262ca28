// `farmctl import gallifrey`: the hand-made VM taken into the inventory; its hand-written lines get
// farmctl's markers and not one other byte changes; destroy and audit then see it as farmctl's.
import { afterEach, describe, expect, it } from "vitest";
import { importResult, importSteps, type ImportCtx } from "../../src/ops/import/steps.js";
import { audit } from "../../src/ops/audit/audit.js";
import { runSaga } from "../../src/ops/saga.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

async function importVm(name: string) {
  const deps = h.deps();
  const opId = h.journal.createOperation("import", name, { name });
  const ctx: ImportCtx = { opId, req: { name }, deps, warnings: [] };
  await runSaga(importSteps(), ctx, { opId, journal: h.journal, events: () => {} });
  return importResult(ctx);
}

const unmarked = (m: Map<string, string>) =>
  new Map([...m].map(([p, t]) => [p, t.replace(/^[;#] farmctl (begin|end) \S+\n/gm, "")]));

describe("farmctl import", () => {
  it("takes gallifrey in: values learned, lines wrapped, nothing else changed", async () => {
    h = harness();
    const before = h.snapshot();
    const r = await importVm("gallifrey");
    expect(r).toMatchObject({
      name: "gallifrey",
      instance: "gallifrey.xivo.vm.farm",
      ip: "10.10.60.5",
      mac: "52:54:2b:9e:41:07",
      sshPort: 22005,
      webName: "gallifrey.dachary.org",
    });
    expect(h.inventory.get("gallifrey")).toMatchObject({
      state: "ready",
      ip: "10.10.60.5",
      lvName: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
      source: null,
    });
    const after = h.snapshot();
    expect(unmarked(after)).toEqual(before);
    const zone = [...after].find(([p]) => p.endsWith("db.farm"))![1];
    expect(zone).toContain(
      "; farmctl begin gallifrey.xivo.vm.farm\ngallifrey.xivo.vm\tIN\tA\t10.10.60.5\n; farmctl end gallifrey.xivo.vm.farm\n",
    );
    // Only reloads: no LV, no instance touched.
    expect(h.runner.mutations().every((a) => a[0]!.startsWith("reload-"))).toBe(true);
    expect(await audit({ ...h.deps(), resolve: h.resolve })).toEqual([]);
  });

  it("lets destroy remove what it took in (with the hand-made disk)", async () => {
    h = harness();
    await importVm("gallifrey");
    const r = await h.destroy({ name: "gallifrey" });
    expect(r.madeByFarmctl).toBe(true);
    expect(h.runner.instances.size).toBe(0);
    const zone = [...h.snapshot()].find(([p]) => p.endsWith("db.farm"))![1];
    expect(zone).not.toContain("gallifrey.xivo.vm\t");
  });

  it("undone after its record was written: not in the inventory, no marker left", async () => {
    h = harness();
    const before = h.snapshot();
    const deps = h.deps();
    const opId = h.journal.createOperation("import", "gallifrey", { name: "gallifrey" });
    const ctx: ImportCtx = { opId, req: { name: "gallifrey" }, deps, warnings: [] };
    // What farmd's crash hook marks: the record written, the step not yet journaled as done.
    const crashAt = (step: string, point: string) => {
      if (step === "record" && point === "acted") throw new Error("stopped at record:acted");
    };
    await expect(
      runSaga(importSteps(), ctx, { opId, journal: h.journal, events: () => {}, crashAt }),
    ).rejects.toThrow(/every earlier step was undone/);
    expect(h.inventory.get("gallifrey")).toBeNull();
    expect(h.snapshot()).toEqual(before);
  });

  it("refuses a VM already in the inventory, or unknown", async () => {
    h = harness();
    await h.clone({});
    expect((await failure(importVm("gallifrey-dev"))).message).toBe(
      "VM 'gallifrey-dev' is already in the inventory",
    );
    expect((await failure(importVm("tardis"))).code).toBe("not_found");
  });
});
