// The farms repository: a farm's resolved spec as last applied, replaced on the next apply.
import { beforeEach, describe, expect, it } from "vitest";
import type { ResolvedFarm } from "../../src/api/farm.js";
import type { Db } from "../../src/state/db.js";
import { Farms } from "../../src/state/farms.js";
import { useTempDb } from "./temp-db.js";

const farm: ResolvedFarm = {
  name: "rel-3-2",
  file: "/home/rm/rel-3-2.toml",
  run: { onError: "continue", wait: "ssh", waitTimeoutSec: 600 },
  specHash: "h1",
  members: [
    {
      key: "repo",
      platform: null,
      name: "rel-3-2-repo",
      source: "reprepro",
      web: "repo.example.org",
      start: true,
      protect: true,
      vars: { release: "3.2.0" },
    },
  ],
};

describe("Farms", () => {
  const temp = useTempDb("farm-farms-");
  let db: Db;
  let farms: Farms;
  beforeEach(() => {
    db = temp.db();
    farms = new Farms(db);
  });

  it("records a farm and reads back its spec, file, hash and operation", () => {
    expect(farms.get("rel-3-2")).toBeNull();
    const rec = farms.upsert(farm, "op1");
    expect(rec).toMatchObject({ name: "rel-3-2", file: farm.file, specHash: "h1", opId: "op1" });
    expect(rec.spec).toEqual(farm);
    expect(farms.get("rel-3-2")).toEqual(rec);
  });

  it("replaces the spec on the next apply and keeps when it was first made", () => {
    const first = farms.upsert(farm, "op1");
    const changed = { ...farm, specHash: "h2", file: "/srv/rel.toml" };
    const second = farms.upsert(changed, "op2");
    expect(second).toMatchObject({ specHash: "h2", file: "/srv/rel.toml", opId: "op2" });
    expect(second.spec).toEqual(changed);
    expect(second.createdAt).toBe(first.createdAt);
    expect(second.updatedAt >= first.updatedAt).toBe(true);
    expect(farms.list()).toHaveLength(1);
  });

  it("lists farms by name and deletes one, saying whether it existed", () => {
    farms.upsert({ ...farm, name: "rel-3-3" }, "op2");
    farms.upsert(farm, "op1");
    expect(farms.list().map((f) => f.name)).toEqual(["rel-3-2", "rel-3-3"]);
    expect(farms.delete("rel-3-2")).toBe(true);
    expect(farms.delete("rel-3-2")).toBe(false);
    expect(farms.list().map((f) => f.name)).toEqual(["rel-3-3"]);
  });

  it("reads a hand-damaged spec as null, keeping the rest of the record", () => {
    farms.upsert(farm, "op1");
    db.prepare("UPDATE farms SET spec = 'not json' WHERE name = 'rel-3-2'").run();
    expect(farms.get("rel-3-2")).toMatchObject({ spec: null, specHash: "h1" });
  });
});
