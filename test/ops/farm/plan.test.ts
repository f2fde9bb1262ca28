// The farm planner on recorded states: what `farm plan` shows and `farm up` does, per member.
import { describe, expect, it } from "vitest";
import type { MemberSpec } from "../../../src/api/farm.js";
import {
  farmBasis,
  planFarm,
  type NameHolder,
  type RecordedMember,
} from "../../../src/ops/farm/plan.js";
import { farmOf, member, plan, record } from "./plan-fixtures.js";

describe("planFarm: one action per member", () => {
  it("creates every member of a farm never brought up, in spec order", () => {
    const p = plan([member("web"), member("build"), member("repo")], []);
    expect(p).toEqual({
      farm: "rel-3-2",
      specHash: "spec-1",
      basis: farmBasis([]),
      platform: null,
      actions: [
        { action: "create", member: "web", name: "rel-3-2-web" },
        { action: "create", member: "build", name: "rel-3-2-build" },
        { action: "create", member: "repo", name: "rel-3-2-repo" },
      ],
    });
  });

  it("changes nothing for a member as recorded; 4096M is 4G; start is not compared", () => {
    const m = member("build");
    const p = plan([{ ...m, memory: "4096M", start: false }], [record(m)]);
    expect(p.actions).toEqual([{ action: "noop", member: "build", name: "rel-3-2-build" }]);
  });

  it("updates memory, balloon, protect and variables in place, field by field", () => {
    const m = member("build");
    const wanted = {
      ...m,
      memory: "6G",
      balloon: undefined,
      protect: true,
      vars: { release: "3.2.1", git_rev: "abc123", tag: "v3.2.1" },
    };
    expect(plan([wanted], [record(m)]).actions).toEqual([
      {
        action: "update",
        member: "build",
        name: "rel-3-2-build",
        changes: [
          { field: "memory", from: "4G", to: "6G" },
          { field: "balloon", from: "1G", to: "(default)" },
          { field: "protect", from: false, to: true },
          { field: "vars.release", from: "3.2.0", to: "3.2.1" },
          { field: "vars.tag", from: null, to: "v3.2.1" },
        ],
      },
    ]);
  });

  it("replaces a member whose source, group or site changed, listing every difference", () => {
    const m = member("build");
    const wanted = { ...m, source: "builder-centos8", group: "rel", web: null, memory: "8G" };
    expect(plan([wanted], [record(m)]).actions).toEqual([
      {
        action: "replace",
        member: "build",
        name: "rel-3-2-build",
        reasons: [
          { field: "source", from: "builder-centos7", to: "builder-centos8" },
          { field: "group", from: "staging", to: "rel" },
          { field: "web", from: "(default)", to: null },
          { field: "memory", from: "4G", to: "8G" },
        ],
      },
    ]);
  });

  it("customize left out is a customized clone; customize = false replaces", () => {
    const m = member("repo", { customize: true });
    expect(plan([{ ...m, customize: undefined }], [record(m)]).actions[0]!.action).toBe("noop");
    expect(plan([{ ...m, customize: false }], [record(m)]).actions[0]).toMatchObject({
      action: "replace",
      reasons: [{ field: "customize", from: true, to: false }],
    });
  });

  it("replaces a renamed member when its new name is free, refuses it when taken", () => {
    const m = member("repo");
    const renamed = { ...m, name: "rel-3-2-pkgs" };
    expect(plan([renamed], [record(m)]).actions).toEqual([
      {
        action: "replace",
        member: "repo",
        name: "rel-3-2-pkgs",
        reasons: [{ field: "name", from: "rel-3-2-repo", to: "rel-3-2-pkgs" }],
      },
    ]);
    const handMade = { name: "rel-3-2-pkgs", inventory: null, tags: { farm: null, member: null } };
    expect(plan([renamed], [record(m)], [handMade]).actions[0]).toMatchObject({
      action: "refuse",
      reason: "rel-3-2-pkgs is a Ganeti instance farmctl has no record of (made by hand?)",
    });
  });

  it("replaces a recorded member whose instance is gone from Ganeti", () => {
    const m = member("build");
    const gone = { name: m.name, inventory: { farm: "rel-3-2", member: "build" }, tags: null };
    expect(plan([m], [record(m)], [gone]).actions).toEqual([
      {
        action: "replace",
        member: "build",
        name: "rel-3-2-build",
        reasons: [{ field: "instance", from: "missing from Ganeti", to: "cloned again" }],
      },
    ]);
  });

  it("replaces a member whose record cannot be read, never diffing it", () => {
    const m = member("build");
    const unreadable = { ...record(m), spec: {} as MemberSpec };
    expect(plan([m], [unreadable]).actions).toEqual([
      {
        action: "replace",
        member: "build",
        name: "rel-3-2-build",
        reasons: [{ field: "record", from: "unreadable", to: "the spec's member" }],
      },
    ]);
  });

  it("lists a recorded member gone from the spec as an orphan, after the spec's members", () => {
    const [a, b, c] = [member("a"), member("b"), member("c")];
    const p = plan([b], [record(c), record(b), record(a)]);
    expect(p.actions.map((x) => `${x.action} ${x.member}`)).toEqual([
      "noop b",
      "orphan a",
      "orphan c",
    ]);
  });
});

describe("planFarm: only VMs that are wholly this farm's", () => {
  const m = member("build");
  const refusal = (holder: Omit<NameHolder, "name">, recorded: RecordedMember[] = []) => {
    const p = planFarm(
      farmOf([m]),
      recorded,
      new Map([[m.name, { name: m.name, ...holder }]]),
      null,
    );
    expect(p.actions).toHaveLength(1);
    expect(p.actions[0]).toMatchObject({ action: "refuse", member: "build", name: m.name });
    return (p.actions[0] as { reason: string }).reason;
  };

  it("refuses a hand-made instance of the member's name", () => {
    expect(refusal({ inventory: null, tags: { farm: null, member: null } })).toBe(
      "rel-3-2-build is a Ganeti instance farmctl has no record of (made by hand?)",
    );
  });

  it("refuses a plain farmctl clone and another farm's member", () => {
    const plain = { farm: null, member: null };
    expect(refusal({ inventory: plain, tags: plain })).toBe(
      "rel-3-2-build is a VM of no farm (made by farmctl clone or import)",
    );
    const other = { farm: "rel-3-1", member: "build" };
    expect(refusal({ inventory: other, tags: other })).toBe(
      "rel-3-2-build is member 'build' of farm 'rel-3-1'",
    );
  });

  it("refuses a member whose tags and record disagree, either way", () => {
    const ours = { farm: "rel-3-2", member: "build" };
    expect(refusal({ inventory: ours, tags: { farm: null, member: null } }, [record(m)])).toBe(
      "the inventory records rel-3-2-build as member 'build' of farm 'rel-3-2' but its Ganeti tags " +
        "say a VM of no farm: tags and record disagree",
    );
    expect(refusal({ inventory: null, tags: ours })).toBe(
      "rel-3-2-build's Ganeti tags say it is this farm's member 'build' but the inventory has no " +
        "record of it: tags and record disagree",
    );
  });

  it("refuses an orphan whose tags say another farm's: --prune must never destroy it", () => {
    const other = { farm: "rel-3-1", member: "old" };
    const orphan = member("old");
    const p = planFarm(
      farmOf([]),
      [record(orphan)],
      new Map([
        [
          orphan.name,
          { name: orphan.name, inventory: { farm: "rel-3-2", member: "old" }, tags: other },
        ],
      ]),
      null,
    );
    expect(p.actions).toEqual([
      {
        action: "refuse",
        member: "old",
        name: "rel-3-2-old",
        reason: expect.stringContaining("tags say member 'old' of farm 'rel-3-1'"),
      },
    ]);
  });

  it("ignores records of other farms", () => {
    const theirs = record(member("build", { name: "other-build" }), "rel-3-1");
    expect(planFarm(farmOf([]), [theirs], new Map(), null).actions).toEqual([]);
  });
});
