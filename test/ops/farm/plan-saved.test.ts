// The planner with --platform, and a saved plan checked against planning again.
import { describe, expect, it } from "vitest";
import { BadInput } from "../../../src/api/errors.js";
import { checkSavedPlan, farmBasis, planFarm } from "../../../src/ops/farm/plan.js";
import { farmOf, hostOf, member, plan, record } from "./plan-fixtures.js";

describe("planFarm --platform", () => {
  const members = [
    member("build-centos7", { platform: "centos-7" }),
    member("build-debian12", { platform: "debian-12" }),
    member("repo"),
  ];
  const gone = member("build-centos6", { platform: "centos-6" });
  const oldCentos7 = member("old-centos7", { platform: "centos-7" });

  it("acts only on that platform's members and orphans", () => {
    const recorded = [record(members[1]!), record(gone), record(oldCentos7)];
    const p = planFarm(farmOf(members), recorded, hostOf(recorded), "centos-7");
    expect(p.platform).toBe("centos-7");
    expect(p.actions.map((a) => `${a.action} ${a.member}`)).toEqual([
      "create build-centos7",
      "orphan old-centos7",
    ]);
    expect(p.basis).toBe(farmBasis(recorded)); // the whole farm's record, whatever the platform
  });

  it("knows a platform that only orphans still have", () => {
    const p = planFarm(farmOf(members), [record(gone)], hostOf([record(gone)]), "centos-6");
    expect(p.actions).toEqual([
      { action: "orphan", member: "build-centos6", name: "rel-3-2-build-centos6" },
    ]);
  });

  it("refuses a platform no member has, naming those it has", () => {
    expect(() => planFarm(farmOf(members), [], new Map(), "centos-8")).toThrow(BadInput);
    expect(() => planFarm(farmOf(members), [], new Map(), "centos-8")).toThrow(
      "--platform centos-8: no member of farm 'rel-3-2' has that platform",
    );
    try {
      planFarm(farmOf(members), [], new Map(), "centos-8");
    } catch (err) {
      expect((err as BadInput).hint).toContain("use one of centos-7, debian-12");
    }
  });
});

describe("a saved plan", () => {
  const m = member("build");
  const saved = plan([m], [record(m)]);

  it("is the fresh plan when nothing changed: same basis whatever the record's order", () => {
    const [a, b] = [record(member("a")), record(member("b"))];
    expect(farmBasis([a, b])).toBe(farmBasis([b, a]));
    expect(() => checkSavedPlan(saved, plan([m], [record(m)]))).not.toThrow();
  });

  const stale = (fresh: Parameters<typeof checkSavedPlan>[1]) => {
    try {
      checkSavedPlan(saved, fresh);
    } catch (err) {
      expect(err).toBeInstanceOf(BadInput);
      expect((err as BadInput).hint).toContain("run `farmctl farm plan` again");
      return (err as BadInput).message;
    }
    throw new Error("the stale plan was accepted");
  };

  it("is refused when the farm's record changed since", () => {
    const changed = record({ ...m, memory: "6G" });
    const fresh = planFarm(farmOf([m]), [changed], hostOf([changed]), null);
    expect(fresh.basis).not.toBe(saved.basis);
    expect(stale(fresh)).toBe(
      "the saved plan of farm 'rel-3-2' is stale: the farm's recorded members changed (another " +
        "`farm up` or `farm down` ran)",
    );
  });

  it("is refused when the spec or its variables changed, or for another platform", () => {
    const fresh = planFarm(farmOf([m], "spec-2"), [record(m)], hostOf([record(m)]), null);
    expect(stale(fresh)).toContain("the spec or its variables changed");
    expect(stale({ ...saved, platform: "centos-7" })).toContain(
      "it was made for all platforms, not --platform centos-7",
    );
    expect(stale({ ...saved, farm: "rel-3-3" })).toContain(
      "it is a plan of farm 'rel-3-2', not of 'rel-3-3'",
    );
  });

  it("is refused when the host changed under it: a name taken since", () => {
    const n = member("web");
    const before = plan([n], []);
    const after = plan(
      [n],
      [],
      [{ name: n.name, inventory: null, tags: { farm: null, member: null } }],
    );
    expect(() => checkSavedPlan(before, after)).toThrow(
      "member 'web' was planned as create, is now refuse",
    );
  });
});
