// Figure (issue 10): `farm up` of a 4-member spec against the same 4 clones of gallifrey made one
// after the other, both measured in this run on the run's one testbed; the farm must take at most
// 0.6 of the time. The members are the clones exactly (same names, memory, balloon, no web site;
// wait = "started", as `farmctl clone` returns once the VM is started and ballooned), and the host
// is checked to be back as it was after each half. Measured A-B-B-A (clones, farm, farm, clones).
import { describe, expect, it } from "vitest";
import { E2E_TEST_MS, farmctl, hostState, instances, serialAside } from "../e2e/helpers.js";
import { fqdnOf, writeSpec } from "../e2e/farm-helpers.js";
import { sharedTestbed } from "../reliability/shared.js";
import { recordFigure } from "./figure.js";
import { timeline } from "./timeline.js";

const KEYS = ["m1", "m2", "m3", "m4"];
const NAMES = KEYS.map((k) => `bench-${k}`);
const MEMORY = "512M";
const MEMORY_MIB = 512;
const BALLOON = "256M";
/** Backstops: a clone takes one to two minutes on a 2-core machine with TCG guests. */
const RUN_MS = 6 * E2E_TEST_MS;

describe("farm benchmark", () => {
  const tb = sharedTestbed();

  /** Runs farmctl ... --json; its time, and the id of the operation it ran. */
  const run = async (args: string[]) => {
    const t0 = Date.now();
    const r = await farmctl(tb, [...args, "--json"], RUN_MS);
    const ms = Date.now() - t0;
    expect(r.exitCode, `farmctl ${args.join(" ")}:\n${r.stdout}${r.stderr}`).toBe(0);
    const doc = JSON.parse(r.stdout) as { result?: { opId?: string } };
    return { ms, opId: doc.result?.opId ?? "" };
  };
  /** The members or clones Ganeti runs, with the memory asked for. */
  const expectRunning = async () => {
    const all = await instances(tb);
    for (const name of NAMES)
      expect(all.find((i) => i.name === fqdnOf(name))).toMatchObject({
        status: "running",
        memoryMiB: MEMORY_MIB,
      });
  };

  /** The 4 clones one after the other, then destroyed; the clones' time. */
  const sequence = async (before: unknown, show: boolean) => {
    let ms = 0;
    const ops: string[] = [];
    for (const name of NAMES) {
      // prettier-ignore
      const c = await run(["clone", "gallifrey", name, "--memory", MEMORY, "--balloon", BALLOON, "--no-web"]);
      ms += c.ms;
      ops.push(c.opId);
    }
    await expectRunning();
    if (show) console.log(`4 clones in sequence, each from its start:\n${await timeline(tb, ops)}`);
    for (const name of [...NAMES].reverse()) await run(["destroy", "--yes", name]);
    expect(serialAside(await hostState(tb))).toEqual(before);
    return ms;
  };

  /** `farm up` of the same 4 members, then `farm down`; up's time. */
  const farmUp = async (before: unknown, show: boolean) => {
    const spec = await writeSpec(tb, "bench-farm.toml", {
      name: "bench",
      run: { on_error: "continue", wait: "started" },
      defaults: { source: "gallifrey", memory: MEMORY, balloon: BALLOON, web: false },
      members: Object.fromEntries(KEYS.map((k) => [k, {}])),
    });
    const farm = await run(["farm", "up", spec, "--yes"]);
    await expectRunning();
    if (show) console.log(`farm up, from its start:\n${await timeline(tb, [farm.opId])}`);
    await run(["farm", "down", "bench", "--yes"]);
    expect(serialAside(await hostState(tb))).toEqual(before);
    return farm.ms;
  };

  it(
    "farm up (4 members) / 4 clones in sequence",
    async (ctx) => {
      const before = serialAside(await hostState(tb));
      // A-B-B-A: the load of a shared machine drifts during the run; each side gets both ends of it.
      const seq1 = await sequence(before, true);
      const farm1 = await farmUp(before, true);
      const farm2 = await farmUp(before, false);
      const seq2 = await sequence(before, false);
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      recordFigure(ctx, {
        value: (farm1 + farm2) / (seq1 + seq2),
        target: 0.6,
        detail: `farm up ${s(farm1)} and ${s(farm2)}, 4 clones ${s(seq1)} and ${s(seq2)}`,
      });
    },
    6 * RUN_MS,
  );
});
