// Ganeti jobs in the sagas, through farmd's Operations over the simulated host: a job farmd
// submitted is found again after a crash and waited for before any undo, and destroy has a point
// of no return (the remove), past which cancel and recovery finish it.
import { join } from "node:path";
import type { ErrorJson } from "../../src/api/errors.js";
import { afterEach, describe, expect, it } from "vitest";
import { Operations } from "../../src/daemon/operations.js";
import { destroyKind } from "../../src/daemon/kinds.js";
import type { Fault } from "../fakes/fake-host-runner.js";
import { recording } from "../fakes/scripted-runner.js";
import { harness, simulatedDeps, until, withoutSerial, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const DEV = "gallifrey-dev.xivo.vm.farm";

/** A farmd over the harness's state; a second one on the same state is farmd after a crash. */
function farmd(): Operations {
  return new Operations({
    config: h.config,
    db: h.db,
    stateDir: join(h.root, "state"),
    log: () => {},
    runner: h.runner,
    resolve: h.resolve,
    deps: simulatedDeps(h),
  });
}

const stepData = (opId: string, name: string) =>
  h.journal.steps(opId).find((s) => s.name === name)?.data ?? {};

/**
 * The add job is journaled and the host branch (which overlaps the disk's) has ended: a farmd
 * "dying" now is as one killed there; this one lives on in the test, so its other steps must be at rest.
 */
async function adoptWaitsAlone(opId: string): Promise<void> {
  await until(() => typeof stepData(opId, "adopt").jobId === "number");
  await until(() => h.journal.steps(opId).every((s) => s.name === "adopt" || s.state === "done"));
}

/** Fails the job (not its submit) of `gnt-instance <sub>` with Ganeti's recorded words. */
const jobFails =
  (sub: string, stderr: string): Fault =>
  (a) =>
    a[0] === "gnt-instance" && a[1] === sub && a[2] !== "--submit"
      ? { exitCode: 1, stderr }
      : undefined;

describe("a clone's Ganeti add, run as a job", () => {
  it("journals the job id before waiting, and a failed job fails the step with Ganeti's words", async () => {
    h = harness();
    const before = h.snapshot();
    h.runner.faults.push(
      jobFails(
        "add",
        recording("gnt-job-3.0.2-wait-bad-os-stderr.txt").replace(/^Job 5 failed: /, ""),
      ),
    );
    const ops = farmd();
    const opId = await ops.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await until(() => !ops.isRunning(opId));
    const op = ops.get(opId);
    expect(op.state).toBe("rolled-back");
    expect((op.error as ErrorJson).hint).toContain(
      "Directory for OS nosuchos not found in search path",
    );
    const jobId = stepData(opId, "adopt").jobId;
    expect(h.runner.jobs).toMatchObject([{ id: jobId, status: "error" }]);
    const submit = h.runner.calls.findIndex((a) => a[1] === "add");
    expect(h.runner.calls[submit + 1]).toEqual(["gnt-job", "wait", String(jobId)]);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
  });

  it("a farmd stopped while it recovers leaves the operation recovering; the next start finishes the rollback", async () => {
    h = harness();
    const before = h.snapshot();
    const lvs = [...h.runner.lvs.keys()];
    h.runner.jobGate = () => new Promise(() => {}); // the add stays in Ganeti's queue
    const opId = await farmd().startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await adoptWaitsAlone(opId);
    // farmd "dies"; the next one recovers, waiting for the add job, and is stopped meanwhile
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    h.runner.jobGate = () => opened;
    const second = farmd();
    const recovery = second.recover();
    const adoptState = () => h.journal.steps(opId).find((s) => s.name === "adopt")?.state;
    await until(() => adoptState() === "undoing");
    const stopped = second.stop();
    open();
    await stopped;
    await recovery.done;
    expect(h.journal.operation(opId)!.state).toBe("recovering");
    expect(adoptState()).toBe("undone"); // the step under way finished; the rest waits
    const stateOf = (name: string) => h.journal.steps(opId).find((s) => s.name === name)?.state;
    expect(stateOf("dns")).toBe("done"); // its entries are still there, for the next start
    expect(withoutSerial(h.snapshot())).not.toEqual(withoutSerial(before));
    const third = farmd().recover();
    expect(third.ids).toEqual([opId]);
    await third.done;
    expect(h.journal.operation(opId)!.state).toBe("rolled-back");
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
    expect([...h.runner.lvs.keys()]).toEqual(lvs);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
  });

  for (const journaled of [true, false]) {
    it(`after a crash while Ganeti runs it, recovery waits for the job (${journaled ? "by its journaled id" : "found by gnt-job list: the id was never journaled"}), then undoes`, async () => {
      h = harness();
      const before = h.snapshot();
      const lvs = [...h.runner.lvs.keys()];
      h.runner.jobGate = () => new Promise(() => {}); // the job stays in Ganeti's queue
      const crashed = farmd();
      const opId = await crashed.startClone({ source: "gallifrey", name: "gallifrey-dev" });
      await adoptWaitsAlone(opId);
      // farmd "dies" waiting; without the journal write, only Ganeti knows the job
      const adopt = h.journal.steps(opId).find((s) => s.name === "adopt")!.seq;
      if (!journaled) h.journal.record(opId, adopt, { jobId: null });
      expect(stepData(opId, "adopt").jobId).toBe(journaled ? h.runner.jobs[0]!.id : null);
      h.runner.jobGate = async () => {};
      const recovery = farmd().recover();
      await recovery.done;
      // Ganeti ran the add before the undo looked: the instance and its renamed LV were removed
      expect(h.runner.jobs.map((j) => [j.summary, j.status])).toEqual([
        [`INSTANCE_CREATE(${DEV})`, "success"],
        [`INSTANCE_REMOVE(${DEV})`, "success"],
      ]);
      h.runner.runJobs(); // whatever Ganeti still had queued would run now: nothing is left
      expect(h.journal.operation(opId)!.state).toBe("rolled-back");
      expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
      expect([...h.runner.lvs.keys()]).toEqual(lvs);
      expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
      expect(h.inventory.list()).toEqual([]);
      // the rollback stopped the throw-away instance at once, never waiting on its guest
      expect(h.runner.calls).toContainEqual(["gnt-instance", "shutdown", "--timeout=0", DEV]);
    });
  }
});

describe("destroy's point of no return", () => {
  /** A clone made, then a destroy started under the returned farmd. */
  async function destroying(): Promise<{
    ops: Operations;
    opId: string;
    before: Map<string, string>;
  }> {
    h = harness();
    const before = h.snapshot();
    await h.clone({});
    const ops = farmd();
    const opId = await ops.start(destroyKind, { name: "gallifrey-dev" });
    return { ops, opId, before };
  }

  it("is journaled before the remove is submitted", async () => {
    const { ops, opId } = await destroying();
    await until(() => !ops.isRunning(opId));
    expect(ops.get(opId).state).toBe("succeeded");
    const data = stepData(opId, "remove-instance");
    expect(data).toMatchObject({ committed: true, jobId: expect.any(Number) });
  });

  it("before it, a cancel undoes the destroy", async () => {
    h = harness();
    await h.clone({});
    const after = h.snapshot();
    const ops = farmd();
    let cancelled: Promise<void> | undefined;
    // `farmctl cancel` while the instance is being shut down
    h.runner.faults.push((a) => {
      if (a[1] === "shutdown" && !cancelled) cancelled = ops.cancel(h.journal.latestId()!);
      return undefined;
    });
    const opId = await ops.start(destroyKind, { name: "gallifrey-dev" });
    await until(() => cancelled !== undefined);
    await cancelled;
    expect(ops.get(opId).state).toBe("rolled-back");
    expect(stepData(opId, "remove-instance")).toEqual({});
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(after));
    expect(h.runner.instances.get(DEV)?.status).toBe("running");
    expect(h.inventory.get("gallifrey-dev")?.state).toBe("ready");
  });

  it("past it, a cancel finishes the destroy and says succeeded", async () => {
    h = harness();
    const before = h.snapshot();
    await h.clone({});
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    h.runner.jobGate = () => opened;
    const ops = farmd();
    const opId = await ops.start(destroyKind, { name: "gallifrey-dev" });
    await until(() => typeof stepData(opId, "remove-instance").jobId === "number");
    const cancelled = ops.cancel(opId);
    open();
    await cancelled;
    expect(ops.get(opId).state).toBe("succeeded");
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(h.inventory.list()).toEqual([]);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
  });

  for (const journaled of [true, false]) {
    it(`past it, crash recovery finishes the destroy (${journaled ? "job id journaled" : "job found by gnt-job list"})`, async () => {
      h = harness();
      const before = h.snapshot();
      await h.clone({});
      h.runner.jobGate = () => new Promise(() => {});
      const crashed = farmd();
      const opId = await crashed.start(destroyKind, { name: "gallifrey-dev" });
      await until(() => typeof stepData(opId, "remove-instance").jobId === "number");
      const seq = h.journal.steps(opId).find((s) => s.name === "remove-instance")!.seq;
      if (!journaled) h.journal.record(opId, seq, { jobId: null });
      h.runner.jobGate = async () => {};
      await farmd().recover().done;
      expect(h.journal.operation(opId)!.state).toBe("succeeded");
      // one remove: the job farmd submitted, waited for, not a second one
      expect(h.runner.jobs.filter((j) => j.summary === `INSTANCE_REMOVE(${DEV})`)).toHaveLength(1);
      expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
      expect(h.inventory.list()).toEqual([]);
      expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
    });
  }

  it("a remove refused at Ganeti's checks changed nothing: the destroy is undone", async () => {
    h = harness();
    await h.clone({});
    const after = h.snapshot();
    const refusal = recording("gnt-instance-3.0.2-remove-unknown-stderr.txt").replace(
      "tardis",
      "gallifrey-dev",
    );
    h.runner.faults.push(jobFails("remove", refusal));
    const ops = farmd();
    const opId = await ops.start(destroyKind, { name: "gallifrey-dev" });
    await until(() => !ops.isRunning(opId));
    expect(ops.get(opId).state).toBe("rolled-back");
    expect(stepData(opId, "remove-instance").committed).toBe(false);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(after));
    expect(h.runner.instances.get(DEV)?.status).toBe("running");
    expect(h.inventory.get("gallifrey-dev")?.state).toBe("ready");
  });

  it("a remove that failed while acting is not undone: failed, and says so", async () => {
    h = harness();
    await h.clone({});
    const after = h.snapshot();
    // an execution error, in the words Ganeti uses for one (recorded from an add)
    const execError = recording("gnt-instance-3.0.2-add-bad-os-stderr.txt");
    h.runner.faults.push(jobFails("remove", execError));
    const ops = farmd();
    const opId = await ops.start(destroyKind, { name: "gallifrey-dev" });
    await until(() => !ops.isRunning(opId));
    const op = ops.get(opId);
    expect(op.state).toBe("failed");
    const error = op.error as ErrorJson;
    expect(error.message).toMatch(/failed past the point of no return: .*; nothing was undone/);
    expect(error.details?.restored).toBe(false);
    // the config entries stay removed: the host is as the message says
    expect(withoutSerial(h.snapshot())).not.toEqual(withoutSerial(after));
    expect(h.journal.steps(opId).filter((s) => s.state === "undone")).toEqual([]);
  });
});
