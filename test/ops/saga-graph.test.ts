// The saga as a dependency graph: steps whose needs are met run at once, the journal keeps the
// declaration order, and a failure stops the other branches before undoing what started.
import { afterEach, describe, expect, it } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import { FarmError } from "../../src/api/errors.js";
import {
  BranchAborted,
  abortedBy,
  runSaga,
  type SagaRun,
  type SagaStep,
} from "../../src/ops/saga.js";
import { openMemoryDb, type Db } from "../../src/state/db.js";
import { Journal } from "../../src/state/journal.js";

type Log = string[];
let db: Db | undefined;
afterEach(() => db?.close());

/** A promise and its resolve, to let one step go only when another says so. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

/** A step that logs its do and undo, and runs `body` (if any) in between. */
function step(
  name: string,
  needs: string[] | undefined,
  body?: (run: SagaRun) => Promise<void>,
  runRef?: { run?: SagaRun },
): SagaStep<Log> {
  return {
    name,
    title: name,
    needs,
    async do(log) {
      log.push(`do ${name}`);
      await body?.(runRef!.run!);
      log.push(`done ${name}`);
    },
    async undo(log) {
      log.push(`undo ${name}`);
    },
  };
}

function setUp(extra: Partial<SagaRun> = {}) {
  db = openMemoryDb();
  const journal = new Journal(db);
  const opId = journal.createOperation("test", "t", {});
  const events: OpEvent[] = [];
  const abort = new AbortController();
  const run: SagaRun = {
    opId,
    journal,
    events: (e) => void events.push(e),
    ...abortedBy(abort),
    ...extra,
  };
  return { journal, opId, events, run, log: [] as Log };
}

describe("the saga's dependency graph", () => {
  it("runs steps whose needs are met at once, and a step once all it needs are done", async () => {
    const t = setUp();
    const ref = { run: t.run };
    const b = gate();
    // a waits for b: the saga finishes only if b runs while a is under way.
    const steps = [
      step("first", []),
      step("a", ["first"], () => b.opened, ref),
      step("b", ["first"], async () => b.open(), ref),
      step("joined", ["a", "b"]),
    ];
    await runSaga(steps, t.log, t.run);
    expect(t.log.indexOf("do b")).toBeLessThan(t.log.indexOf("done a"));
    expect(t.log.indexOf("do joined")).toBeGreaterThan(t.log.indexOf("done a"));
    expect(t.log.indexOf("do joined")).toBeGreaterThan(t.log.indexOf("done b"));
    // The journal's seq order is the declaration order, whatever order the steps ended in.
    expect(t.journal.steps(t.opId).map((s) => [s.seq, s.name, s.state])).toEqual([
      [0, "first", "done"],
      [1, "a", "done"],
      [2, "b", "done"],
      [3, "joined", "done"],
    ]);
    expect(t.journal.operation(t.opId)!.state).toBe("succeeded");
  });

  it("without needs, a step follows the one declared before it", async () => {
    const t = setUp();
    await runSaga([step("x", undefined), step("y", undefined), step("z", undefined)], t.log, t.run);
    expect(t.log).toEqual(["do x", "done x", "do y", "done y", "do z", "done z"]);
  });

  it("refuses a step that needs one declared after it", async () => {
    const t = setUp();
    await expect(runSaga([step("x", ["y"]), step("y", [])], t.log, t.run)).rejects.toThrow(
      "saga step 'x' needs 'y', not declared before it",
    );
    expect(t.log).toEqual([]);
  });

  it("on a failure: starts nothing more, aborts the other branch, lets it settle, then undoes what started in reverse", async () => {
    const t = setUp();
    const ref = { run: t.run };
    const failing = gate();
    const steps = [
      step("first", []),
      // The long branch (a copy): it ends only when aborted.
      step(
        "long",
        ["first"],
        (run) =>
          new Promise<void>((_, reject) => {
            failing.open();
            run.signal!.addEventListener("abort", () => reject(run.signal!.reason), {
              once: true,
            });
          }),
        ref,
      ),
      step(
        "bad",
        ["first"],
        async () => {
          await failing.opened;
          throw new FarmError("boom", "the DNS reload failed", 1);
        },
        ref,
      ),
      step("after-long", ["long"]),
      step("after-both", ["long", "bad"]),
    ];
    const err = (await runSaga(steps, t.log, t.run).catch((e: unknown) => e)) as FarmError;
    expect(err.details).toMatchObject({ step: "bad", restored: true });
    expect(err.message).toContain("the DNS reload failed");
    expect(t.run.signal!.reason).toBeInstanceOf(BranchAborted);
    // Both branches settled before the first undo; undo goes from the last declared step that started.
    expect(t.log).toEqual([
      "do first",
      "done first",
      "do long",
      "do bad",
      "undo bad",
      "undo long",
      "undo first",
    ]);
    expect(t.journal.steps(t.opId).map((s) => [s.name, s.state])).toEqual([
      ["first", "undone"],
      ["long", "undone"],
      ["bad", "undone"],
    ]);
    const failed = t.events.flatMap((e) => (e.type === "step-failed" ? [[e.step, e.error]] : []));
    expect(failed).toEqual([
      ["bad", "the DNS reload failed"],
      ["long", "stopped: step 'bad' failed"],
    ]);
    expect(t.journal.operation(t.opId)!.state).toBe("rolled-back");
  });

  it("resumed at the first step not done, skips the later steps the journal shows done", async () => {
    const t = setUp();
    const steps = [step("first", []), step("disk", ["first"]), step("dns", ["first"])];
    const { journal, opId } = t;
    for (const [seq, name, state] of [
      [0, "first", "done"],
      [1, "disk", "failed"],
      [2, "dns", "done"],
    ] as const) {
      journal.startStep(opId, seq, name);
      journal.setStepState(opId, seq, state);
    }
    await runSaga(steps, t.log, t.run, 1);
    expect(t.log).toEqual(["do disk", "done disk"]);
    expect(journal.operation(opId)!.state).toBe("succeeded");
  });

  it("sequential (a dry run): one step at a time in declaration order", async () => {
    const t = setUp({ sequential: true });
    const steps = [step("first", []), step("b", ["first"]), step("a", ["first"])];
    await runSaga(steps, t.log, t.run);
    expect(t.log).toEqual(["do first", "done first", "do b", "done b", "do a", "done a"]);
  });
});
