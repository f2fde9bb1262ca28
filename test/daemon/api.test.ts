// farmd's API over a real unix socket, with the simulated host01: jobs, event streams, dry runs,
// eight clones at once, cancel, interrupt and resume, crash recovery.
import { execa } from "execa";
import { readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CloneResult } from "../../src/api/clone.js";
import type { AuditReport } from "../../src/api/inventory.js";
import type { OpEvent } from "../../src/api/events.js";
import { FarmdClient, followToEnd } from "../../src/client/http.js";
import type { Operations } from "../../src/daemon/operations.js";
import type { FarmError } from "../../src/api/errors.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, until, withoutSerial, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";
import { FARMCTL, outputShows } from "../cli/farmd-process.js";

let h: Harness;
let served: ServedFarmd | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
  h?.cleanup();
});

async function farmd(
  parallelCopies = 2,
): Promise<{ ops: Operations; client: FarmdClient; logs: string[] }> {
  served = await serveFarmd(h, parallelCopies);
  return served;
}

const clone = async (
  client: FarmdClient,
  name: string,
  seen: OpEvent[] = [],
): Promise<CloneResult> =>
  followToEnd(client.events(await client.startClone({ source: "gallifrey", name }), true), (e) =>
    seen.push(e),
  );

/** A gate that holds every dd until opened. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { wait: () => opened, open };
}

describe("farmd API", () => {
  it("runs a clone as an operation and streams its events to the end", async () => {
    h = harness();
    const { client, logs } = await farmd();
    const seen: OpEvent[] = [];
    const r = await clone(client, "gallifrey-dev", seen);
    expect(r).toMatchObject({
      ip: "10.10.60.6",
      sshPort: 22006,
      instance: "gallifrey-dev.xivo.vm.farm",
    });
    expect(
      seen.filter((e) => e.type === "step-done").map((e) => (e as { step: string }).step),
    ).toHaveLength(16);
    expect(seen.some((e) => e.type === "copy-progress")).toBe(true);
    const ops = await client.operations();
    expect(ops[0]).toMatchObject({
      id: r.opId,
      kind: "clone",
      target: "gallifrey-dev",
      state: "succeeded",
    });
    const { steps } = await client.operation(r.opId);
    expect(steps.every((s) => s.state === "done")).toBe(true);
    // A late follower gets the whole story replayed, ending with the result.
    const replay: OpEvent[] = [];
    expect((await followToEnd(client.events(r.opId, true), (e) => replay.push(e))).ip).toBe(
      "10.10.60.6",
    );
    expect(replay.length).toBe(seen.length);
    expect(logs).toContain(`info: op ${r.opId}: ended succeeded`);
  });

  it("refuses a bad --var with 400 and the field, before the operation starts", async () => {
    h = harness();
    const { client } = await farmd();
    for (const [vars, field, message] of [
      [{ "git-revision": "1" }, "request.vars.git-revision", "is not an identifier"],
      [{ x: "a\nb" }, "request.vars.x", "control character"],
    ] as const) {
      const err = (await client
        .startClone({ source: "gallifrey", name: "gallifrey-dev", vars })
        .catch((e: unknown) => e)) as FarmError;
      expect(err.code).toBe("bad_input");
      expect(err.exitCode).toBe(65);
      expect(err.details?.field).toBe(field);
      expect(err.message).toContain(message);
    }
    expect(h.guest.opened).toEqual([]);
  });

  it("plans a dry run through the daemon without touching the host", async () => {
    h = harness();
    const { client } = await farmd();
    const before = h.snapshot();
    const events: OpEvent[] = [];
    const r = await followToEnd(client.plan({ source: "gallifrey", name: "gallifrey-dev" }), (e) =>
      events.push(e),
    );
    expect(r.ip).toBe("10.10.60.6");
    const diffs = events.flatMap((e) => (e.type === "file-diff" ? [e.path] : []));
    // The host's six files, and the guest's changes, shown as planned (the new disk does not exist).
    expect(diffs.filter((p) => !p.startsWith("guest:"))).toHaveLength(6);
    expect(diffs).toContain("guest:/etc/hostname");
    expect(h.guest.opened).toEqual([]);
    expect(h.runner.mutations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(await client.operations()).toEqual([]);
  });

  it("answers bad input with its code and exit status", async () => {
    h = harness();
    const { client } = await farmd();
    const err = await failure(clone(client, "Bad_Name"));
    expect(err).toMatchObject({ code: "bad_input", exitCode: 65 });
    const bad = await failure(client.operation("nosuchop"));
    expect(bad).toMatchObject({ code: "not_found", exitCode: 65 });
  });

  it("gives 8 clones started at once 8 distinct addresses, MACs and ports, copies overlapping", async () => {
    h = harness();
    const { client } = await farmd(2);
    const g = gate();
    h.runner.ddGate = g.wait;
    const names = Array.from({ length: 8 }, (_, i) => `build${i + 1}`);
    const results = Promise.all(names.map((n) => clone(client, n)));
    await until(() => h.runner.ddActive === 2);
    // The six others wait for a copy slot: "queued" until their turn.
    const queued = async () =>
      (await client.operations()).filter((o) => o.state === "queued").length;
    for (let n = await queued(); n < 6; n = await queued())
      await new Promise((r) => setTimeout(r, 20));
    expect((await client.operations()).filter((o) => o.state === "running")).toHaveLength(2);
    g.open();
    const rs = await results;
    expect(new Set(rs.map((r) => r.ip)).size).toBe(8);
    expect(new Set(rs.map((r) => r.mac)).size).toBe(8);
    expect(new Set(rs.map((r) => r.sshPort)).size).toBe(8);
    expect(rs.map((r) => r.ip).sort()).toEqual(
      Array.from({ length: 8 }, (_, i) => `10.10.60.${i + 6}`).sort(),
    );
    expect(h.runner.ddMaxActive).toBe(2); // [copy] parallel
    // Every file stays valid for the real checkers, with all eight entries in it.
    const zone = h.config.dns.zone_file;
    const zoneCheck = await execa("named-checkzone", ["-k", "fail", "farm", zone], {
      reject: false,
    });
    expect(zoneCheck.exitCode, zoneCheck.stdout).toBe(0);
    const dhcp = await execa("dhcpd", ["-t", "-4", "-cf", h.config.dhcp.config], { reject: false });
    expect(dhcp.exitCode, dhcp.stderr).toBe(0);
    // shorewall: in a throw-away netns, with the fixture's capabilities file (never probing the host).
    const sw = join(h.root, "etc/shorewall");
    writeFileSync(
      join(sw, "shorewall.conf"),
      readFileSync(join(sw, "shorewall.conf"), "utf8").replace(
        /^LOGFILE=.*$/m,
        `LOGFILE=${sw}/messages`,
      ),
    );
    const fw = await execa("unshare", ["--net", "shorewall", "check", sw], { reject: false });
    expect(fw.exitCode, fw.stdout + fw.stderr).toBe(0);
    expect(fw.stdout).toContain("Shorewall configuration verified");
    const text = h.snapshot();
    for (const r of rs) expect(text.get(zone)).toContain(`\t${r.ip}\n`);
  });

  it("cancels a clone in the middle of its copy and rolls it back", async () => {
    h = harness();
    const { client } = await farmd();
    const before = withoutSerial(h.snapshot());
    const lvs = [...h.runner.lvs.keys()];
    h.runner.ddGate = () => new Promise(() => {}); // a copy that never ends by itself
    const opId = await client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await until(() => h.runner.ddActive === 1);
    await client.cancel(opId);
    const err = await failure(followToEnd(client.events(opId, true), () => {}));
    expect(err.message).toContain("cancelled");
    expect((await client.operation(opId)).operation.state).toBe("rolled-back");
    // The host's entries were written beside the copy: their undo bumps the zone's serial.
    expect(withoutSerial(h.snapshot())).toEqual(before);
    expect([...h.runner.lvs.keys()]).toEqual(lvs);
  });

  it("cancels a clone waiting for its guest's first-boot block, and rolls it back", async () => {
    h = harness();
    const { client } = await farmd();
    const before = withoutSerial(h.snapshot());
    h.console.printed.set("gallifrey-dev.xivo.vm.farm", "GUEST-READY\n");
    h.console.hang = true;
    const opId = await client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await until(() => h.console.waiting === 1);
    await client.cancel(opId);
    const err = await failure(followToEnd(client.events(opId, true), () => {}));
    expect(err.message).toContain("cancelled");
    expect(h.console.waiting).toBe(0);
    const { operation, steps } = await client.operation(opId);
    expect(operation.state).toBe("rolled-back");
    expect(steps.find((s) => s.name === "identity")?.state).toBe("failed");
    expect(withoutSerial(h.snapshot())).toEqual(before); // the undo bumps the zone's serial
    expect(h.runner.instances.has("gallifrey-dev.xivo.vm.farm")).toBe(false);
  });

  it("cancels a clone queued for a copy slot at once, while the two copies go on", async () => {
    h = harness();
    const { client } = await farmd(2);
    const lvs = [...h.runner.lvs.keys()];
    const g = gate();
    h.runner.ddGate = g.wait; // the two copies hold both slots until the end of the test
    const running = ["build1", "build2"].map((n) => clone(client, n));
    await until(() => h.runner.ddActive === 2);
    const opId = await client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    const state = async () => (await client.operation(opId)).operation.state;
    while ((await state()) !== "queued") await new Promise((r) => setTimeout(r, 10));
    await client.cancel(opId);
    // It ends although no slot freed: the copies still hold theirs.
    const err = await failure(followToEnd(client.events(opId, true), () => {}));
    expect(err.message).toContain("cancelled");
    expect(await state()).toBe("rolled-back");
    expect(h.runner.ddActive).toBe(2);
    expect((await client.operation(opId)).steps.find((s) => s.name === "copy")).toMatchObject({
      state: "undone",
    });
    // Its snapshot and new disk are gone; only the two running clones' volumes are added.
    const added = [...h.runner.lvs.keys()].filter((n) => !lvs.includes(n));
    expect(added.filter((n) => n === "gallifrey-dev" || n.includes(opId))).toEqual([]);
    g.open();
    expect((await Promise.all(running)).map((r) => r.ip).sort()).toEqual([
      "10.10.60.6",
      "10.10.60.7",
    ]);
    expect(h.runner.ddMaxActive).toBe(2);
  });

  it("interrupts on stop, then resumes from the step it was in", async () => {
    h = harness();
    const first = await farmd();
    h.runner.ddGate = () => new Promise(() => {});
    const opId = await first.client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await until(() => h.runner.ddActive === 1);
    await first.ops.stop();
    expect(first.ops.get(opId).state).toBe("interrupted");
    expect(h.inventory.get("gallifrey-dev")).not.toBeNull(); // kept for the resume
    await served!.close();
    h.runner.ddGate = async () => {};
    const second = await farmd();
    await second.client.resume(opId);
    const r = await followToEnd(second.client.events(opId, true), () => {});
    expect(r.ip).toBe("10.10.60.6");
    expect(second.ops.get(opId).state).toBe("succeeded");
    expect([...h.runner.lvs.keys()].filter((n) => n.startsWith("farm-snap-"))).toEqual([]);
  });

  it("runs audit --fix as a `fix` operation that leaves an interrupted clone's snapshot and disk alone", async () => {
    h = harness();
    const first = await farmd();
    h.runner.ddGate = () => new Promise(() => {});
    const cloneId = await first.client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await until(() => h.runner.ddActive === 1);
    await first.ops.stop();
    expect(first.ops.get(cloneId).state).toBe("interrupted");
    await served!.close();
    // A snapshot no live operation owns: the one thing --fix may remove.
    h.runner.lvs.set("farm-snap-deadbeef", {
      name: "farm-snap-deadbeef",
      uuid: "snap-uuid",
      sizeBytes: 2 ** 30,
      origin: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
    });
    const { client } = await farmd();
    const opId = await client.startFix();
    const report = await followToEnd<AuditReport>(client.events(opId, true), () => {});
    expect(report.repaired.map((f) => f.message)).toEqual([
      "snapshot all/farm-snap-deadbeef (0% full) was left by operation deadbeef",
    ]);
    expect(h.runner.lvs.has("farm-snap-deadbeef")).toBe(false);
    expect(h.runner.lvs.has(`farm-snap-${cloneId}`)).toBe(true);
    // The interrupted clone's disk, adopted by Ganeti before its copy: <uuid>.disk0, left alone.
    const adopted = h.runner.instances.get("gallifrey-dev.xivo.vm.farm")!.lv;
    expect(h.runner.lvs.has(adopted)).toBe(true);
    expect((await client.operation(opId)).operation).toMatchObject({
      kind: "fix",
      state: "succeeded",
    });
    expect((await client.operation(cloneId)).operation.state).toBe("interrupted");
  });

  it("farmctl audit --fix --yes follows its fix operation to the report", async () => {
    h = harness();
    const { client } = await farmd();
    await clone(client, "gallifrey-dev");
    const link = join(h.config.proxy.sites_enabled, "gallifrey-dev.dachary.org");
    rmSync(link);
    const config = join(h.root, "cli.toml");
    writeFileSync(config, `socket = "${join(h.root, "farmd.sock")}"\n`);
    const r = await execa(
      "node",
      [FARMCTL, "audit", "--fix", "--yes", "--json", "--config", config],
      { reject: false },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      repaired: [expect.objectContaining({ code: "entry-missing", vm: "gallifrey-dev" })],
    });
    expect(readlinkSync(link)).toBe(
      join(h.config.proxy.sites_available, "gallifrey-dev.dachary.org"),
    );
    const fixes = (await client.operations()).filter((o) => o.kind === "fix");
    expect(fixes).toEqual([expect.objectContaining({ state: "succeeded", target: "host" })]);
  });

  it("rolls back at start what a crash left running", async () => {
    h = harness();
    const before = withoutSerial(h.snapshot());
    const lvs = [...h.runner.lvs.keys()];
    const crashed = await farmd();
    h.runner.ddGate = () => new Promise(() => {});
    const opId = await crashed.client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await until(() => h.runner.ddActive === 1);
    // The host branch ran beside the copy: at rest, as in a farmd killed there (this one lives on).
    await until(() =>
      crashed.ops.journal.steps(opId).every((s) => s.name === "copy" || s.state === "done"),
    );
    // farmd "dies": its job never returns; a new farmd opens the same state.
    await served!.close();
    const restarted = await farmd();
    const recovery = restarted.ops.recover();
    expect(recovery.ids).toEqual([opId]);
    // shown as recovering at once, while the undo runs behind the API
    expect(restarted.ops.get(opId).state).toBe("recovering");
    await recovery.done;
    expect(restarted.ops.get(opId).state).toBe("rolled-back");
    // the copy the crash cut short is not left "running" in the journal
    expect(restarted.ops.journal.steps(opId).find((s) => s.name === "copy")).toMatchObject({
      state: "undone",
      error: "farmd stopped before this step finished",
    });
    expect(withoutSerial(h.snapshot())).toEqual(before);
    expect([...h.runner.lvs.keys()]).toEqual(lvs);
    expect(h.inventory.list()).toEqual([]);
  });

  it("farmctl clone follows the progress, and Ctrl-C detaches while the clone goes on", async () => {
    h = harness();
    await farmd();
    const g = gate();
    h.runner.ddGate = g.wait;
    const config = join(h.root, "cli.toml");
    writeFileSync(config, `socket = "${join(h.root, "farmd.sock")}"\n`);
    const cli = execa(
      "node",
      [FARMCTL, "clone", "gallifrey", "gallifrey-dev", "--config", config],
      { reject: false, all: true },
    );
    // Ctrl-C once the user has seen step 8 (the CLI follows, its SIGINT handler is in place).
    await outputShows(cli.all, "[ 8] copy the snapshot onto the new disk ...");
    cli.kill("SIGINT");
    const r = await cli;
    expect(r.exitCode).toBe(0);
    const opId = /operation (\w+) \(Ctrl-C detaches/.exec(r.all ?? "")![1]!;
    expect(r.all).toContain("[ 8] copy the snapshot onto the new disk ...");
    expect(r.all).toContain(`detached: operation ${opId} goes on in farmd.`);
    expect(r.all).toContain(`farmctl ops ${opId} --follow`);
    expect(h.journal.operation(opId)!.state).toBe("running");
    g.open();
    const follow = await execa(
      "node",
      [FARMCTL, "ops", opId, "--follow", "--json", "--config", config],
      { reject: false },
    );
    expect(JSON.parse(follow.stdout)).toMatchObject({
      ok: true,
      opId,
      result: { ip: "10.10.60.6" },
    });
  });

  it("says farmd is not running, with the socket and how to start it", async () => {
    h = harness();
    const err = await failure(new FarmdClient(join(h.root, "none.sock")).health());
    expect(err).toMatchObject({ code: "unavailable", exitCode: 69 });
    expect(err.message).toContain(`no answer on ${h.root}/none.sock`);
    expect(err.hint).toContain("systemctl start farmd");
  });
});
