// `farmctl ops`: a farm operation's member clones and destroys are listed under it.
import { describe, expect, it } from "vitest";
import type { OperationRecord } from "../../src/api/operations.js";
import { nestOperations, opDetail, opsTable } from "../../src/cli/ops.js";
import { openMemoryDb } from "../../src/state/db.js";
import { Journal } from "../../src/state/journal.js";

describe("operations under their farm operation", () => {
  it("the journal records each child's parent and lists a parent's children oldest first", () => {
    const journal = new Journal(openMemoryDb());
    const solo = journal.createOperation("clone", "dev", {});
    const farm = journal.createOperation("farm-up", "farm:rel", {});
    const a = journal.createOperation("clone", "rel-a", {}, farm);
    const b = journal.createOperation("clone", "rel-b", {}, farm);
    expect(journal.operation(a)!.parentId).toBe(farm);
    expect(journal.operation(solo)!.parentId).toBeNull();
    expect(journal.children(farm).map((o) => o.id)).toEqual([a, b]);
    expect(journal.children(solo)).toEqual([]);
    // The listing (newest first) nests them: the farm, then its members in the order they started.
    const rows = nestOperations(journal.list());
    expect(rows.map((r) => [r.op.id, r.depth])).toEqual([
      [farm, 0],
      [a, 1],
      [b, 1],
      [solo, 0],
    ]);
    const table = opsTable(journal.list()).split("\n");
    expect(table[1]).toMatch(new RegExp(`^${farm}\\s+farm-up\\s+farm:rel\\s+running`));
    expect(table[2]).toMatch(new RegExp(`^└ ${a}\\s+clone\\s+rel-a\\s+running`));
    expect(table[3]).toMatch(new RegExp(`^└ ${b}\\s+clone\\s+rel-b`));
    expect(table[4]).toMatch(new RegExp(`^${solo}\\s+clone\\s+dev`));
    const detail = opDetail(journal.operation(farm)!, [], journal.children(farm));
    expect(detail).toContain(`  └ ${a} clone rel-a, running\n`);
    expect(opDetail(journal.operation(a)!, [])).toContain(`under ${farm}`);
  });

  it("a child whose parent is past the listing's limit stands on its own", () => {
    const op = (id: string, parentId: string | null): OperationRecord => ({
      id,
      kind: "clone",
      target: id,
      state: "succeeded",
      params: {},
      error: null,
      createdAt: "t",
      updatedAt: "t",
      parentId,
      owner: null,
    });
    expect(nestOperations([op("c2", "gone"), op("c1", "gone")]).map((r) => r.depth)).toEqual([
      0, 0,
    ]);
  });
});
