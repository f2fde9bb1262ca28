// farmctl balloon over host01: a floor ([balloon] min) and only the VMs farmctl made, unless --force.
import { afterEach, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { balloonVm } from "../../src/ops/inventory/balloon.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const refused = async (p: Promise<unknown>) => {
  const calls = h.monitor.calls.length;
  const err = (await p.catch((e: unknown) => e)) as FarmError;
  expect(err).toBeInstanceOf(FarmError);
  expect(err.exitCode).toBe(65);
  expect(h.monitor.calls.length).toBe(calls); // the monitor was never asked
  return err;
};

describe("farmctl balloon", () => {
  it("refuses a size below [balloon] min, and takes one at it", async () => {
    h = harness();
    await h.clone({});
    const err = await refused(balloonVm(h.deps(), "gallifrey-dev", "128M"));
    expect(err.message).toBe(
      "SIZE 128M is below the smallest balloon allowed ([balloon] min 256M)",
    );
    expect(err.hint).toBe("give at least 256M");
    const r = await balloonVm(h.deps(), "gallifrey-dev", "256M");
    expect(r.reachedBytes).toBe(256 * 2 ** 20);
    expect(h.inventory.get("gallifrey-dev")?.balloonBytes).toBe(256 * 2 ** 20);
  });

  it("follows [balloon] min when set", async () => {
    h = harness('[balloon]\nmin = "512M"\n');
    await h.clone({});
    const err = await refused(balloonVm(h.deps(), "gallifrey-dev", "384M"));
    expect(err.message).toMatch(/\(\[balloon\] min 512M\)$/);
  });

  it("refuses the hand-made gallifrey unless forced", async () => {
    h = harness();
    const err = await refused(balloonVm(h.deps(), "gallifrey", "1G"));
    expect(err.message).toBe("VM 'gallifrey' (gallifrey.xivo.vm.farm) was not made by farmctl");
    expect(err.hint).toContain("add --force");
    const r = await balloonVm(h.deps(), "gallifrey", "1G", { force: true });
    expect(r).toMatchObject({ instance: "gallifrey.xivo.vm.farm", reachedBytes: 2 ** 30 });
    expect(h.monitor.calls).toEqual([["gallifrey.xivo.vm.farm", 2 ** 30]]);
    expect(h.inventory.list()).toEqual([]); // forcing does not take it in
  });

  it("a clone's --balloon below [balloon] min is refused before anything changes", async () => {
    h = harness();
    const before = h.snapshot();
    const err = await refused(h.clone({ balloon: "128M" }));
    expect(err.message).toBe(
      "--balloon 128M is below the smallest balloon allowed ([balloon] min 256M)",
    );
    expect(h.runner.mutations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
  });
});
