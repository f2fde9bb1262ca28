// Faults are failures, not crashes (issue 8 item 3): a listener that throws, a journal that cannot
// store an event, a rejection nobody handled, a service that does not reload during an undo.
import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import type { OpEvent } from "../../src/api/events.js";
import { logBugs } from "../../src/daemon/bugs.js";
import { EventHub } from "../../src/daemon/event-hub.js";
import {
  RESTORED_NOT_RELOADED,
  RestoredNotReloaded,
  UndoTolerantService,
} from "../../src/host/families/undo-reload.js";

type Line = [string, string];
const logger = () => {
  const lines: Line[] = [];
  return { lines, log: (level: string, message: string) => void lines.push([level, message]) };
};
const event = { type: "log", message: "hello" } as unknown as OpEvent;

describe("EventHub", () => {
  it("drops a listener that throws, logs it as a BUG, and still serves the others", () => {
    const { lines, log } = logger();
    const hub = new EventHub(log);
    const got: number[] = [];
    hub.subscribe("op1", () => {
      throw new Error("client went away");
    });
    hub.subscribe("op1", (seq) => got.push(seq));
    let seq = 0;
    expect(() => hub.publish("op1", event, () => ++seq)).not.toThrow();
    hub.publish("op1", event, () => ++seq);
    expect(got).toEqual([1, 2]);
    const bugs = lines.filter(([, m]) => m.startsWith("BUG: an event listener of op op1 threw"));
    expect(bugs).toHaveLength(1); // dropped after the first throw
    expect(bugs[0]![1]).toContain("client went away");
  });

  it("fans out an event the journal could not store, with the next sequence number", () => {
    const { lines, log } = logger();
    const hub = new EventHub(log);
    const got: number[] = [];
    hub.subscribe("op1", (seq) => got.push(seq));
    hub.publish("op1", event, () => 7);
    const seq = hub.publish("op1", event, () => {
      throw new Error("database or disk is full");
    });
    expect(seq).toBe(8);
    expect(got).toEqual([7, 8]);
    expect(lines).toContainEqual([
      "error",
      "op op1: event not journaled: database or disk is full",
    ]);
  });
});

describe("logBugs", () => {
  it("logs an unhandled rejection and an uncaught exception with their stacks", () => {
    const { lines, log } = logger();
    const proc = new EventEmitter() as unknown as NodeJS.Process;
    logBugs(log, proc);
    proc.emit("unhandledRejection", new Error("nobody awaited me"), Promise.resolve());
    proc.emit("uncaughtException", new Error("thrown in a timer"));
    expect(lines[0]![1]).toMatch(/^BUG: unhandled rejection: Error: nobody awaited me\n\s+at /);
    expect(lines[1]![1]).toMatch(/^BUG: uncaught exception: Error: thrown in a timer\n\s+at /);
  });
});

describe("UndoTolerantService", () => {
  const failing = () => {
    let calls = 0;
    const service = {
      calls: () => calls,
      describe: () => ["rndc", "reload", "farm"],
      reload: async () => {
        calls++;
        throw new FarmError("reload_failed", "rndc reload farm exited 1", 1);
      },
    };
    return service;
  };

  it("outside an undo, a failed reload fails the step", async () => {
    const inner = failing();
    await expect(new UndoTolerantService(inner).reload()).rejects.toMatchObject({
      code: "reload_failed",
    });
    expect(inner.calls()).toBe(1);
  });

  it("inside an undo, retries once, then reports restored-not-reloaded naming the fix", async () => {
    const inner = failing();
    const service = new UndoTolerantService(inner);
    let restored = false;
    const undo = service.undo(async () => {
      restored = true;
      await service.reload();
    });
    await expect(undo).rejects.toBeInstanceOf(RestoredNotReloaded);
    await undo.catch((err: RestoredNotReloaded) => {
      expect(err.code).toBe(RESTORED_NOT_RELOADED);
      expect(err.message).toContain("rndc reload farm exited 1");
      expect(err.hint).toContain("rndc reload farm");
    });
    expect(restored).toBe(true);
    expect(inner.calls()).toBe(2);
  });

  it("inside an undo, a reload that works the second time is no failure", async () => {
    let calls = 0;
    const service = new UndoTolerantService({
      describe: () => ["nginx", "-s", "reload"],
      reload: async () => {
        if (++calls === 1) throw new FarmError("reload_failed", "busy", 1);
      },
    });
    await expect(service.undo(() => service.reload())).resolves.toBeUndefined();
    expect(calls).toBe(2);
  });
});
