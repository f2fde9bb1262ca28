// The crash matrix (issue 8): farmd SIGKILLed by its test hook at each step of a clone, a destroy
// and an import, then restarted; each cell checks the host against a fingerprint taken before.
// A clone or an import rolls back to the host as it was; a destroy rolls back before its point of
// no return (gnt-instance remove) and is finished after it. One farmd of the file's own, on the
// run's one testbed; a cell that leaves a mess gets the heavier reset and fails.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { baseline, CrashBench, restoreHost, type Baseline, type OpView } from "./crash-bench.js";
import { differences, fingerprint, sharedTestbed, type Fingerprint } from "./shared.js";

/** Small, so that a started clone is cheap for the machine. */
const CLONE = ["clone", "gallifrey", "gallifrey-dev", "--memory", "512M", "--balloon", "256M"];
const DESTROY = ["destroy", "gallifrey-dev", "--yes"];
const IMPORT = ["import", "gallifrey"];

// prettier-ignore
const CLONE_STEPS = ["preflight", "allocate", "snapshot", "create-lv", "dns", "dhcp", "adopt",
  "copy", "drop-snapshot", "customize", "firewall", "start", "balloon", "identity", "proxy",
  "record"];
const DESTROY_UNDONE = ["preflight", "shutdown", "proxy", "firewall", "dhcp", "dns"];
const IMPORT_STEPS = ["preflight", "dns", "dhcp", "firewall", "proxy", "record"];

/** Cells as `<step>:<point>`: each step at its start, and the last step once it acted. */
const cells = (steps: string[]) => [...steps.map((s) => `${s}:begin`), `${steps.at(-1)}:acted`];

const tb = sharedTestbed();
const bench = new CrashBench(tb);
/** The host before this file's first clone. */
let base: Baseline;
/** The host as the last cell left it, checked (a cell's "before", without taking it again). */
let known: Fingerprint | null = null;

beforeAll(async () => {
  await bench.setUp();
  base = await baseline(tb);
  known = base.fp;
});
afterAll(() => bench.stop());

/** Runs a cell's body; if it fails, puts the host back with the heavier reset, then fails. */
async function cell(body: () => Promise<void>): Promise<void> {
  const t0 = Date.now();
  bench.laps = "";
  try {
    await body();
  } catch (err) {
    known = null;
    await restoreHost(bench, base);
    known = base.fp;
    throw err;
  } finally {
    const ms = Date.now() - t0;
    console.log(`${expect.getState().currentTestName}: ${ms} ms (${bench.laps})`);
  }
}

function expectState(v: OpView, state: string) {
  expect(v.operation.state, JSON.stringify(v, null, 1)).toBe(state);
}

async function expectHost(want: Fingerprint, v: OpView) {
  known = null;
  expect(differences(want, await fingerprint(tb)), JSON.stringify(v, null, 1)).toEqual([]);
  known = want;
}

/** A cell of an operation that must roll back: the host as before, gallifrey still hand-made. */
function rolledBackCell(kind: string, at: string, args: string[]) {
  it(`killed at ${kind}:${at}: rolled back, the host as before`, () =>
    cell(async () => {
      const before = known ?? (await fingerprint(tb));
      const v = await bench.crash(`${kind}:${at}`, args);
      expectState(v, "rolled-back");
      await expectHost(before, v);
      expect(await bench.listed()).toEqual([["gallifrey", "hand-made"]]);
      await bench.expectAuditClean();
    }));
}

describe("crash matrix: clone", () => {
  for (const at of cells(CLONE_STEPS)) rolledBackCell("clone", at, CLONE);
});

describe("crash matrix: destroy", () => {
  /** The host with gallifrey-dev made by our farmd, taken after the clone. */
  let withVm: Fingerprint | null = null;

  async function ensureClone(): Promise<Fingerprint> {
    if (withVm && known === withVm) return withVm;
    const r = await bench.farmctl(CLONE);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    withVm = await fingerprint(tb);
    known = withVm;
    return withVm;
  }

  for (const at of DESTROY_UNDONE.map((s) => `${s}:begin`)) {
    it(`killed at destroy:${at}: undone, the VM back as it was`, () =>
      cell(async () => {
        const vm = await ensureClone();
        const v = await bench.crash(`destroy:${at}`, DESTROY);
        expectState(v, "rolled-back");
        await expectHost(vm, v);
        await bench.expectAuditClean();
      }));
  }

  // Before its action, remove-instance has not passed the point of no return; either way the
  // operation's state must tell the truth about the host.
  it("killed at destroy:remove-instance:begin: the state says what the host is", () =>
    cell(async () => {
      const vm = await ensureClone();
      const v = await bench.crash("destroy:remove-instance:begin", DESTROY);
      expect(["rolled-back", "succeeded"], JSON.stringify(v, null, 1)).toContain(v.operation.state);
      await expectHost(v.operation.state === "succeeded" ? base.fp : vm, v);
      await bench.expectAuditClean();
    }));

  for (const at of ["remove-instance:acted", "release:begin", "release:acted"]) {
    it(`killed at destroy:${at}: past the point of no return, finished`, () =>
      cell(async () => {
        await ensureClone();
        const v = await bench.crash(`destroy:${at}`, DESTROY);
        expectState(v, "succeeded");
        await expectHost(base.fp, v);
        expect(await bench.listed()).toEqual([["gallifrey", "hand-made"]]);
        await bench.expectAuditClean();
      }));
  }
});

describe("crash matrix: import", () => {
  for (const at of cells(IMPORT_STEPS)) rolledBackCell("import", at, IMPORT);
});
