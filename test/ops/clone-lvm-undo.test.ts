// farmd killed between lvcreate and the journal write (the crash hook's "acted" point): the undo of
// the clone's snapshot and create-lv steps finds the LV by its operation's tag, and nothing else.
import { describe, expect, it } from "vitest";
import { Lvm } from "../../src/host/lvm.js";
import { cloneSteps, type CloneCtx, type CloneDeps } from "../../src/ops/clone/steps.js";
import type { CloneFacts } from "../../src/ops/clone/request.js";
import { Crash, handle, noHolders } from "../fakes/step-handle.js";
import { LVS_ALL, lvsRecorded } from "../fakes/lvm-recordings.js";
import { ScriptedRunner, recording, type Expectation } from "../fakes/scripted-runner.js";

const OP = "1a2b3c4d"; // the operation id in the recordings
const SOURCE = "774014d8-5c48-495b-887b-4a970834c7c5.disk0";
const GiB = 2 ** 30;
const lvs = (c: "tagged" | "untagged") => lvsRecorded(c);

function ctxWith(runner: ScriptedRunner): CloneCtx {
  const facts = {
    source: { vg: "all", lv: SOURCE, sizeBytes: GiB },
    target: { lvName: "gallifrey-dev" },
    snapshotBytes: GiB,
  } as unknown as CloneFacts;
  const deps = { lvm: new Lvm(runner, noHolders), config: { lvm: { vg: "all" } }, dryRun: false };
  return { opId: OP, req: {} as never, deps: deps as unknown as CloneDeps, facts, warnings: [] };
}

const step = (name: string) => cloneSteps().find((s) => s.name === name)!;

const cases = [
  {
    name: "create-lv",
    lv: "gallifrey-dev",
    create: ["lvcreate", "--yes", "--size", `${GiB}b`, "--name", "gallifrey-dev"].concat([
      "--addtag",
      `farmd_op_${OP}`,
      "all",
    ]),
  },
  {
    name: "snapshot",
    lv: `farm-snap-${OP}`,
    create: ["lvcreate", "--snapshot", "--size", `${GiB}b`, "--name", `farm-snap-${OP}`].concat([
      "--addtag",
      `farmd_op_${OP}`,
      `/dev/all/${SOURCE}`,
    ]),
  },
];

describe.each(cases)("a crash in $name right after lvcreate", ({ name, lv, create }) => {
  /** Runs the step's do() until the crash; returns what the journal then holds. */
  async function crashAfterLvcreate(): Promise<Record<string, unknown>> {
    const r = new ScriptedRunner([{ argv: create }]);
    const journal: Record<string, unknown> = {};
    await expect(step(name).do(ctxWith(r), handle(journal, true))).rejects.toThrow(Crash);
    r.assertDone();
    expect(journal.uuid).toBeUndefined(); // the window: made, tagged, its UUID never journaled
    return journal;
  }

  it("is undone by the operation's tag", async () => {
    const journal = await crashAfterLvcreate();
    const r = new ScriptedRunner([
      lvs("tagged"),
      lvs("tagged"),
      { argv: ["lvremove", "-f", `all/${lv}`], stdout: recording("lvremove-2.03.16-remove.txt") },
    ]);
    await step(name).undo!(ctxWith(r), handle(journal, false));
    r.assertDone();
  });

  it("leaves an LV of that name that does not bear the tag", async () => {
    const journal = await crashAfterLvcreate();
    const doc = recording("lvs-2.03.16-json-vg-tagged.txt").replaceAll(`farmd_op_${OP}`, "");
    const r = new ScriptedRunner([lvs("untagged"), { argv: LVS_ALL, stdout: doc }]);
    const ctx = ctxWith(r);
    await step(name).undo!(ctx, handle(journal, false));
    await step(name).undo!(ctx, handle({ ...journal }, false));
    expect(r.calls.every((c) => c[0] === "lvs")).toBe(true); // looked, removed nothing
    r.assertDone();
  });
});
