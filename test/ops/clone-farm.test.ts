// A farm member's clone (issue 10): membership and variables recorded with the reservation, the
// instance tagged in Ganeti, the record released on rollback, and destroy finding every entry by
// its VM whatever the variables.
import { afterEach, describe, expect, it } from "vitest";
import type { FarmMembership } from "../../src/api/clone.js";
import type { MemberSpec } from "../../src/api/farm.js";
import { Ganeti, parseFarmTags } from "../../src/host/ganeti.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, withoutSerial, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const spec: MemberSpec = {
  key: "dev",
  platform: "debian-12",
  name: "gallifrey-dev",
  source: "gallifrey",
  memory: "4G",
  start: true,
  protect: false,
  vars: { release: "3.2.0", git_rev: "0a1b2c3" },
};
const farm: FarmMembership = { farm: "rel-3-2", member: "dev", spec, specHash: "h1" };
const FQDN = "gallifrey-dev.xivo.vm.farm";
const addOf = (h: Harness) =>
  h.runner.calls.find((a) => a[0] === "gnt-instance" && a.includes("add"))!;

describe("clone as a farm's member", () => {
  it("records the member and its variables, and tags the instance", async () => {
    h = harness();
    await h.clone({ vars: spec.vars, farm });
    expect(h.inventory.get("gallifrey-dev")).toMatchObject({
      farm: "rel-3-2",
      member: "dev",
      vars: spec.vars,
      state: "ready",
    });
    expect(h.inventory.members("rel-3-2")).toEqual([
      { farm: "rel-3-2", member: "dev", name: "gallifrey-dev", spec, specHash: "h1" },
    ]);
    const add = addOf(h);
    expect(add.slice(add.indexOf("--tags"), add.indexOf("--tags") + 2)).toEqual([
      "--tags",
      "farmctl:farm:rel-3-2,farmctl:member:dev",
    ]);
    const tags = await new Ganeti(h.runner).instanceTags();
    expect(parseFarmTags(tags.get(FQDN)!)).toEqual({ farm: "rel-3-2", member: "dev" });
    expect(parseFarmTags(tags.get("gallifrey.xivo.vm.farm")!)).toEqual({
      farm: null,
      member: null,
    });
  });

  it("keeps a plain clone's variables, with no farm and no tags", async () => {
    h = harness();
    await h.clone({ vars: { git_rev: "0a1b2c3" } });
    expect(h.inventory.get("gallifrey-dev")).toMatchObject({
      vars: { git_rev: "0a1b2c3" },
      farm: null,
      member: null,
    });
    expect(addOf(h)).not.toContain("--tags");
    expect((await new Ganeti(h.runner).instanceTags()).get(FQDN)).toEqual([]);
  });

  it("refuses a membership Ganeti could not tag, before any change", async () => {
    h = harness();
    const before = h.snapshot();
    const err = await failure(h.clone({ farm: { ...farm, farm: "rel 3.2" } }));
    expect(err.code).toBe("bad_input");
    expect(err.details?.field).toBe("request.farm");
    expect(err.message).toContain("not a valid Ganeti tag");
    expect(h.snapshot()).toEqual(before);
    expect(h.runner.mutations()).toEqual([]);
    expect(h.inventory.get("gallifrey-dev")).toBeNull();
  });

  it("refuses a membership for another VM than the one cloned", async () => {
    h = harness();
    const err = await failure(h.clone({ farm: { ...farm, spec: { ...spec, name: "other" } } }));
    expect(err.code).toBe("bad_input");
    expect(err.message).toContain("is VM 'other', not 'gallifrey-dev'");
    expect(h.runner.mutations()).toEqual([]);
  });

  it("releases the member's record when the clone rolls back", async () => {
    h = harness();
    const before = h.snapshot();
    h.runner.faults.push((argv) =>
      argv[0] === "gnt-instance" && argv[1] === "start"
        ? { exitCode: 1, stderr: "injected failure\n" }
        : undefined,
    );
    await failure(h.clone({ vars: spec.vars, farm }));
    expect(h.inventory.members("rel-3-2")).toEqual([]);
    expect(h.inventory.get("gallifrey-dev")).toBeNull();
    expect(h.runner.instances.has(FQDN)).toBe(false);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
  });

  it("is destroyed whole by its record, whatever its variables", async () => {
    h = harness();
    const before = h.snapshot();
    await h.clone({ vars: { ...spec.vars, web_note: "x}y;z" }, farm });
    await h.destroy({ name: "gallifrey-dev" });
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
    expect(h.runner.instances.has(FQDN)).toBe(false);
    expect(h.inventory.members("rel-3-2")).toEqual([]);
  });
});
