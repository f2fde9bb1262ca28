// `farm up` through farmd's API over the simulated host01: three members cloned at once as child
// operations of the farm operation, on_error continue/stop/atomic, a second up resuming, busy,
// confirm_needed, a stale plan, an update in place, and waiting for SSH.
import { describe, expect, it } from "vitest";
import { CommandFailed } from "../../src/api/errors.js";
import type { OpEvent } from "../../src/api/events.js";
import type { FarmPlan } from "../../src/api/farm.js";
import { harness, until, withoutSerial, type Harness } from "../ops/clone-harness.js";
import { ABC, call, farmdFor, followOp, spec, statuses, up } from "./farm-helpers.js";

let h: Harness;

const farmd = (parallelCopies = 2, extra = {}) => farmdFor(h, parallelCopies, extra);

/** Makes the dd of one member's disk fail once `ready()` holds (the others queued, ...). */
function failCopyOf(name: string, ready: () => boolean = () => true) {
  h.runner.ddGate = async (argv) => {
    // the member's disk, adopted by Ganeti before its copy: the instance's <uuid>.disk0
    const lv = [...h.runner.instances.values()].find((i) => i.name.startsWith(`${name}.`))?.lv;
    if (!lv || !argv.some((a) => a === `of=/dev/all/${lv}`)) return;
    await until(ready);
    throw new CommandFailed(argv, 1, "dd: error writing '/dev/all/x': No space left on device\n");
  };
}

const lvNames = () => [...h.runner.lvs.values()].map((l) => l.name);
const instanceNames = () => [...h.runner.instances.keys()].sort();

describe("farm up", () => {
  it("plans 3 creates, then clones them at once as child operations listed under the farm's", async () => {
    h = harness();
    const { socket, client } = await farmd();
    // The first two copies wait for each other: they overlap in farmd's two slots.
    let copies = 0;
    let overlapped = false;
    h.runner.ddGate = async () => {
      if (++copies <= 2) await until(() => (overlapped ||= h.runner.ddActive >= 2));
    };
    const input = spec("rel", ABC);
    const plan = await call<FarmPlan>(socket, "POST", "/v1/farms/plan", input);
    expect(plan.status).toBe(200);
    expect(plan.body.actions.map((a) => [a.action, a.name])).toEqual([
      ["create", "rel-a"],
      ["create", "rel-b"],
      ["create", "rel-c"],
    ]);
    const r = await up(socket, client, input);
    expect(r.end.state).toBe("succeeded");
    expect(statuses(r.result)).toEqual({ a: "done", b: "done", c: "done" });
    expect(instanceNames()).toEqual([
      "gallifrey.xivo.vm.farm",
      "rel-a.xivo.vm.farm",
      "rel-b.xivo.vm.farm",
      "rel-c.xivo.vm.farm",
    ]);
    // Copies overlapped within farmd's two slots.
    expect(h.runner.ddMaxActive).toBe(2);
    // Each member's clone is an operation under the farm operation, in spec order.
    const children = h.journal.children(r.opId);
    expect(children.map((c) => [c.kind, c.target, c.state])).toEqual([
      ["clone", "rel-a", "succeeded"],
      ["clone", "rel-b", "succeeded"],
      ["clone", "rel-c", "succeeded"],
    ]);
    expect(r.result.members.map((m) => m.opId)).toEqual(children.map((c) => c.id));
    const listed = (await client.operations()).map((o) => [o.kind, o.parentId]);
    expect(listed).toContainEqual(["farm-up", null]);
    expect(listed.filter(([, p]) => p === r.opId)).toHaveLength(3);
    // The farm's events: each member started and done, its clone's events forwarded with it.
    const members = r.events.filter(
      (e): e is Extract<OpEvent, { type: "member" }> => e.type === "member",
    );
    expect(members.map((e) => `${e.member}:${e.status}`).sort()).toEqual([
      "a:done",
      "a:started",
      "b:done",
      "b:started",
      "c:done",
      "c:started",
    ]);
    const forwarded = r.events.filter((e) => e.type === "member-event");
    expect(new Set(forwarded.map((e) => e.type === "member-event" && e.member))).toEqual(
      new Set(["a", "b", "c"]),
    );
    expect(
      forwarded.some((e) => e.type === "member-event" && e.event.type === "copy-progress"),
    ).toBe(true);
    // Recorded: the farm, its members, and the farm's tags on each instance.
    expect(h.inventory.members("rel").map((m) => m.name)).toEqual(["rel-a", "rel-b", "rel-c"]);
    const farms = await call<{ farm: string; members: number }[]>(socket, "GET", "/v1/farms");
    expect(farms.body).toMatchObject([{ farm: "rel", members: 3, file: "rel.toml" }]);
    const status = await call<{ members: { state: string; drift: string[] }[] }>(
      socket,
      "GET",
      "/v1/farms/rel",
    );
    expect(status.body.members.map((m) => [m.state, m.drift])).toEqual([
      ["running", []],
      ["running", []],
      ["running", []],
    ]);
    const add = h.runner.calls.find((c) => c[1] === "add" && c.includes("rel-b.xivo.vm.farm"))!;
    expect(add[add.indexOf("--tags") + 1]).toBe("farmctl:farm:rel,farmctl:member:b");
    // The same spec again: nothing to do.
    const again = await up(socket, client, input);
    expect(statuses(again.result)).toEqual({ a: "unchanged", b: "unchanged", c: "unchanged" });
    expect(h.journal.children(again.opId)).toEqual([]);
  });

  it("a dry run streams each member's own plan, at the address the checks gave it, and changes nothing", async () => {
    h = harness();
    const { socket, ops } = await farmd();
    const before = h.snapshot();
    const r = await call<OpEvent[]>(socket, "POST", "/v1/farms/up", {
      dryRun: true,
      request: { ...spec("rel", { a: {}, b: {} }), yes: false },
    });
    expect(r.status).toBe(200);
    const diffs = (member: string) =>
      r.body.flatMap((e) =>
        e.type === "member-event" && e.member === member && e.event.type === "file-diff"
          ? [e.event.diff]
          : [],
      );
    expect(diffs("a").join("")).toContain("10.10.60.6");
    expect(diffs("b").join("")).toContain("10.10.60.7");
    expect(diffs("b").join("")).not.toContain("10.10.60.6");
    const end = r.body.at(-1)!;
    expect(end).toMatchObject({ type: "end", state: "planned" });
    expect(end.type === "end" && statuses(end.result as never)).toEqual({
      a: "skipped",
      b: "skipped",
    });
    expect(h.runner.mutations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(ops.journal.list()).toEqual([]);
  });

  it("continue: a failed member fails alone; a second up creates only it", async () => {
    h = harness();
    const { socket, client } = await farmd();
    failCopyOf("rel-b");
    const first = await up(socket, client, spec("rel", ABC));
    expect(first.end.state).toBe("failed");
    expect(first.end.error?.code).toBe("operation_failed");
    expect(statuses(first.result)).toEqual({ a: "done", b: "failed", c: "done" });
    const b = first.result.members.find((m) => m.member === "b")!;
    expect(b.error).toContain(`clone ${b.opId} rolled-back`);
    expect(b.error).toContain("No space left on device");
    expect(instanceNames()).not.toContain("rel-b.xivo.vm.farm");
    h.runner.ddGate = async () => {};
    const second = await up(socket, client, spec("rel", ABC));
    expect(second.end.state).toBe("succeeded");
    expect(statuses(second.result)).toEqual({ a: "unchanged", b: "done", c: "unchanged" });
    expect(h.journal.children(second.opId).map((c) => c.target)).toEqual(["rel-b"]);
  });

  it("a missing source fails that member alone (continue); stop and atomic refuse the farm", async () => {
    h = harness();
    const { socket, client, ops } = await farmd();
    const input = spec("rel", { a: {}, b: { source: "nosuch" } });
    for (const onError of ["stop", "atomic"]) {
      const refused = await call(socket, "POST", "/v1/farms/up", {
        request: { ...input, yes: false, onError },
      });
      expect(refused.status).toBe(404);
      expect(refused.body.error!.message).toContain(
        "farm 'rel' cannot come up: member b (rel-b): source VM 'nosuch' is not a Ganeti instance",
      );
    }
    expect(ops.journal.list()).toEqual([]);
    const r = await up(socket, client, input);
    expect(statuses(r.result)).toEqual({ a: "done", b: "failed" });
    expect(r.result.members[1]).toMatchObject({ opId: null });
    expect(r.result.members[1]!.error).toContain("source VM 'nosuch' is not a Ganeti instance");
  });

  it("refuses the whole farm when a member's name is a hand-made VM's, whatever on_error", async () => {
    h = harness();
    h.runner.lvs.set("hand.disk0", {
      name: "hand.disk0",
      uuid: "u-hand",
      sizeBytes: 2 ** 30,
      origin: "",
    });
    h.runner.instances.set("rel-b.xivo.vm.farm", {
      name: "rel-b.xivo.vm.farm",
      status: "running",
      memoryMiB: 1024,
      mac: "52:54:00:12:34:56",
      ip: null,
      lv: "hand.disk0",
    });
    const { socket, ops } = await farmd();
    const refused = await call(socket, "POST", "/v1/farms/up", {
      request: { ...spec("rel", ABC), yes: false },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "already_exists" });
    expect(refused.body.error!.message).toContain(
      "member b (rel-b): rel-b is a Ganeti instance farmctl has no record of (made by hand?)",
    );
    expect(ops.journal.list()).toEqual([]);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("stop: at a failure, the clones waiting for a copy slot are cancelled; the running one ends", async () => {
    h = harness();
    const { socket, client, ops } = await farmd(1);
    const queued = () =>
      ops.journal.list().filter((o) => o.kind === "clone" && o.state === "queued").length === 2;
    failCopyOf("rel-a", queued);
    const r = await up(socket, client, spec("rel", ABC, { on_error: "stop" }));
    expect(r.end.state).toBe("failed");
    // a's copy failed while b and c waited for the one slot: b got it as a's copy ended, c is
    // cancelled before its copy began.
    expect(statuses(r.result)).toEqual({ a: "failed", b: "done", c: "skipped" });
    expect(r.result.members[2]!.error).toBe("an earlier member failed (on_error = stop)");
    expect(h.journal.children(r.opId).map((c) => c.state)).toEqual([
      "rolled-back",
      "succeeded",
      "rolled-back",
    ]);
    expect(lvNames().filter((n) => n.startsWith("farm-snap-") || n.startsWith("rel-"))).toEqual([]);
    expect(h.inventory.members("rel").map((m) => m.member)).toEqual(["b"]);
  });

  it("atomic: a failure undoes the members this run created, leaving the host as it was", async () => {
    h = harness();
    const before = withoutSerial(h.snapshot());
    const { socket, client } = await farmd();
    failCopyOf("rel-c");
    const r = await up(socket, client, spec("rel", ABC), { onError: "atomic" });
    expect(r.end.state).toBe("failed");
    expect(statuses(r.result)).toEqual({ a: "undone", b: "undone", c: "failed" });
    const kinds = h.journal.children(r.opId).map((c) => `${c.kind} ${c.target} ${c.state}`);
    expect(kinds.slice(0, 3).sort()).toEqual([
      "clone rel-a succeeded",
      "clone rel-b succeeded",
      "clone rel-c rolled-back",
    ]);
    expect(kinds.slice(3).sort()).toEqual(["destroy rel-a succeeded", "destroy rel-b succeeded"]);
    expect(instanceNames()).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(h.inventory.members("rel")).toEqual([]);
    expect(withoutSerial(h.snapshot())).toEqual(before);
    expect((await call(socket, "GET", "/v1/farms")).body).toEqual([]);
  });

  it("a second farm operation on the same farm is busy; another farm runs at once", async () => {
    h = harness();
    const { socket, client } = await farmd();
    let open!: () => void;
    const held = new Promise<void>((r) => (open = r));
    h.runner.ddGate = () => held;
    const first = await call<{ opId: string }>(socket, "POST", "/v1/farms/up", {
      request: { ...spec("rel", { a: {} }), yes: false },
    });
    expect(first.status).toBe(202);
    const second = await call(socket, "POST", "/v1/farms/up", {
      request: { ...spec("rel", { a: {} }), yes: false },
    });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: "busy", exitCode: 75 });
    expect(second.body.error!.message).toBe(
      `farm rel is busy: operation ${first.body.opId} (farm-up) is running on it`,
    );
    const down = await call(socket, "POST", "/v1/farms/down", {
      request: { name: "rel", platform: null, force: false, yes: true },
    });
    expect(down.body.error?.code).toBe("busy");
    const other = await call<{ opId: string }>(socket, "POST", "/v1/farms/up", {
      request: { ...spec("other", { a: {} }), yes: false },
    });
    expect(other.status).toBe(202);
    open();
    expect((await followOp(client, first.body.opId)).end.state).toBe("succeeded");
    expect((await followOp(client, other.body.opId)).end.state).toBe("succeeded");
  });

  it("a replace needs yes (409 confirm_needed, nothing journaled), then destroys and clones again", async () => {
    h = harness();
    const { socket, client, ops } = await farmd();
    await up(socket, client, spec("rel", { a: {} }));
    const changed = spec("rel", { a: { web: false } });
    const opsBefore = ops.journal.list().length;
    const refused = await call(socket, "POST", "/v1/farms/up", {
      request: { ...changed, yes: false },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: "confirm_needed",
      details: { actions: [{ action: "replace", member: "a", name: "rel-a" }] },
    });
    expect(refused.body.error!.message).toContain("rel-a (a, replace)");
    expect(ops.journal.list()).toHaveLength(opsBefore);
    const r = await up(socket, client, changed, { yes: true });
    expect(statuses(r.result)).toEqual({ a: "done" });
    expect(h.journal.children(r.opId).map((c) => `${c.kind} ${c.state}`)).toEqual([
      "destroy succeeded",
      "clone succeeded",
    ]);
    expect(h.inventory.get("rel-a")!.webName).toBeNull();
  });

  it("refuses a saved plan once the farm changed since", async () => {
    h = harness();
    const { socket, client, ops } = await farmd();
    const input = spec("rel", { a: {}, b: {} });
    const saved = (await call<FarmPlan>(socket, "POST", "/v1/farms/plan", input)).body;
    await up(socket, client, spec("rel", { a: {} }));
    const farmUps = () => ops.journal.list().filter((o) => o.kind === "farm-up").length;
    const before = farmUps();
    const stale = await call(socket, "POST", "/v1/farms/up", {
      request: { ...input, plan: saved, yes: false },
    });
    expect(stale.status).toBe(400);
    expect(stale.body.error!.message).toContain("the saved plan of farm 'rel' is stale");
    expect(farmUps()).toBe(before);
    // Planned again, the same up is accepted.
    const fresh = (await call<FarmPlan>(socket, "POST", "/v1/farms/plan", input)).body;
    const r = await up(socket, client, input, { plan: fresh });
    expect(statuses(r.result)).toEqual({ a: "unchanged", b: "done" });
  });

  it("updates memory in place: gnt-instance modify -B, then the balloon, then the record", async () => {
    h = harness();
    const { socket, client } = await farmd();
    await up(socket, client, spec("rel", { a: {} }));
    const changed = spec("rel", { a: { memory: "3G", vars: { release: "3.2.1" } } });
    const plan = (await call<FarmPlan>(socket, "POST", "/v1/farms/plan", changed)).body;
    expect(plan.actions).toMatchObject([{ action: "update", member: "a" }]);
    h.monitor.calls.length = 0;
    const r = await up(socket, client, changed);
    expect(statuses(r.result)).toEqual({ a: "done" });
    expect(h.runner.mutations()).toContainEqual([
      "gnt-instance",
      "modify",
      "-B",
      "memory=3072M",
      "rel-a.xivo.vm.farm",
    ]);
    expect(h.monitor.calls).toEqual([["rel-a.xivo.vm.farm", 2 ** 30]]);
    const vm = h.inventory.get("rel-a")!;
    expect(vm.memoryBytes).toBe(3 * 2 ** 30);
    expect(vm.vars).toEqual({ release: "3.2.1" });
    const warnings = r.events.flatMap((e) => (e.type === "warning" ? [e.message] : []));
    expect(warnings.join("\n")).toContain("takes effect when Ganeti next starts the instance");
    expect(
      (await call<FarmPlan>(socket, "POST", "/v1/farms/plan", changed)).body.actions,
    ).toMatchObject([{ action: "noop" }]);
  });

  it("records new variables in place, and says the guest's files keep the old ones", async () => {
    h = harness(`[guest.files."/etc/packaging-farm/packaging-farm.conf"]
template = "packaging-farm.conf.njk"
`);
    const { socket, client } = await farmd();
    await up(socket, client, spec("rel", { a: { vars: { git_revision: "rel-3.2.0" } } }));
    h.runner.calls.length = 0;
    const changed = spec("rel", { a: { vars: { git_revision: "rel-3.2.1" } } });
    const r = await up(socket, client, changed);
    expect(statuses(r.result)).toEqual({ a: "done" });
    // Nothing on the host is rewritten: the host's entries do not depend on the variables.
    expect(h.runner.mutations()).toEqual([]);
    expect(h.inventory.get("rel-a")!.vars).toEqual({ git_revision: "rel-3.2.1" });
    const warnings = r.events.flatMap((e) => (e.type === "warning" ? [e.message] : []));
    expect(warnings).toEqual([
      "rel-a: the guest's files (/etc/packaging-farm/packaging-farm.conf) were rendered at clone with the old variables; replace the member to render them again",
    ]);
  });

  it("a cancelled farm operation cancels its running member clones", async () => {
    h = harness();
    const { socket, client, ops } = await farmd();
    let open!: () => void;
    const held = new Promise<void>((r) => (open = r));
    h.runner.ddGate = () => held;
    const started = await call<{ opId: string }>(socket, "POST", "/v1/farms/up", {
      request: { ...spec("rel", { a: {}, b: {} }), yes: false },
    });
    const farmOp = started.body.opId;
    await until(() => h.runner.ddActive === 2);
    await client.cancel(farmOp);
    const { end } = await followOp(client, farmOp);
    open();
    expect(end.state).toBe("rolled-back");
    expect(ops.journal.children(farmOp).map((c) => c.state)).toEqual([
      "rolled-back",
      "rolled-back",
    ]);
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(h.inventory.members("rel")).toEqual([]);
  });

  it("wait = ssh: a member is up once it answers on SSH; one that never does fails", async () => {
    h = harness();
    let tries = 0;
    // rel-a's SSH answers at the third try, rel-b's never.
    const tcpProbe = async (host: string, port: number) => {
      expect(port).toBe(22);
      return host === h.inventory.get("rel-a")?.ip && ++tries >= 3;
    };
    const { socket, client } = await farmd(2, { tcpProbe });
    const r = await up(
      socket,
      client,
      spec("rel", { a: {}, b: {} }, { wait: "ssh", wait_timeout: "2s" }),
    );
    expect(statuses(r.result)).toEqual({ a: "done", b: "failed" });
    expect(tries).toBe(3);
    const b = h.inventory.get("rel-b")!;
    expect(r.result.members[1]!.error).toBe(
      `rel-b did not answer on SSH (${b.ip}:22, public port ${b.sshPort}) within 2s ([run] wait_timeout): check its console (gnt-instance console rel-b.xivo.vm.farm)`,
    );
  });
});
