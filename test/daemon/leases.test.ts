// Leases through a test farmd over the simulated host01: clone --lease records the expiry, renew
// extends it, and the reaper destroys what ran out (journaled, as farmd's own destroy), leaving
// protected, unexpired, unleased and busy VMs alone; a failing destroy is retried, logged once.
import { afterEach, describe, expect, it } from "vitest";
import type { CloneResult } from "../../src/api/clone.js";
import type { FarmError } from "../../src/api/errors.js";
import { followToEnd } from "../../src/client/http.js";
import { destroyKind } from "../../src/daemon/kinds.js";
import type { Fault } from "../fakes/fake-host-runner.js";
import { failure, recording } from "../fakes/scripted-runner.js";
import { devMember } from "../ops/farm-member.js";
import { harness, until, withoutSerial, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";

const HOUR = 3_600_000;
let h: Harness;
let served: ServedFarmd | undefined;
afterEach(async () => {
  if (served) await until(() => served!.ops.journal.live().every((o) => o.state !== "running"));
  await served?.close();
  served = undefined;
  h?.cleanup();
});

/** A farmd whose reaper looks every 10 ms (or never, without `everyMs`). */
async function farmd(everyMs?: number): Promise<ServedFarmd> {
  served = await serveFarmd(h, 2, {}, { leasesEveryMs: everyMs });
  return served;
}

/** Its lease ran out a minute ago, as if the time had passed. */
const expire = (name: string) =>
  h.inventory.update(name, { expiresAt: new Date(Date.now() - 60_000).toISOString() });

const linesWith = (logs: string[], text: string) => logs.filter((l) => l.includes(text));

/** The reaper has done `n` more rounds than now: it has seen the state the test set up. */
async function rounds(f: ServedFarmd, n: number): Promise<void> {
  const target = f.leases!.rounds + n;
  await until(() => f.leases!.rounds >= target);
}

const destroysOf = (name: string) =>
  h.journal.list(1000).filter((o) => o.kind === "destroy" && o.target === name);

/** Fails the job (not its submit) of `gnt-instance remove` with Ganeti's recorded refusal. */
const removeRefused: Fault = (a) =>
  a[0] === "gnt-instance" && a[1] === "remove" && a[2] !== "--submit"
    ? {
        exitCode: 1,
        stderr: recording("gnt-instance-3.0.2-remove-unknown-stderr.txt").replace(
          "tardis",
          "builder-1",
        ),
      }
    : undefined;

describe("clone --lease", () => {
  it("records the expiry: the clone's success plus the lease, in the inventory, list and show", async () => {
    h = harness();
    const { client } = await farmd();
    const t0 = Date.now();
    const opId = await client.startClone({ source: "gallifrey", name: "builder-1", lease: "2h" });
    const r = await followToEnd<CloneResult>(client.events(opId, true), () => {});
    const t1 = Date.now();
    const end = Date.parse(r.expiresAt!);
    expect(end).toBeGreaterThanOrEqual(t0 + 2 * HOUR);
    expect(end).toBeLessThanOrEqual(t1 + 2 * HOUR);
    expect(h.inventory.get("builder-1")?.expiresAt).toBe(r.expiresAt);
    expect((await client.vms()).find((v) => v.name === "builder-1")?.expiresAt).toBe(r.expiresAt);
    expect((await client.vm("builder-1")).vm.expiresAt).toBe(r.expiresAt);
    // Without --lease: none, and the hand-made gallifrey has none either.
    expect((await client.vms()).find((v) => v.name === "gallifrey")?.expiresAt).toBeNull();
  });

  it("refuses a bad or too long lease before anything is journaled or changed", async () => {
    h = harness();
    const { client } = await farmd();
    const before = h.snapshot();
    const refused = async (lease: string) =>
      failure(client.startClone({ source: "gallifrey", name: "builder-1", lease }));
    const bare = await refused("2");
    expect(bare).toMatchObject({ code: "bad_input", exitCode: 65 });
    expect(bare.message).toBe('lease "2" is not a duration (a number needs a unit)');
    expect(bare.hint).toContain("like 2h, 90m or 30d");
    expect(bare.details?.field).toBe("request.lease");
    expect((await refused("2 hours")).message).toBe('lease "2 hours" is not a duration');
    expect((await refused("0h")).message).toBe('lease "0h" is zero');
    const long = await refused("31d");
    expect(long.message).toBe("lease 31d is longer than [leases] max (30d)");
    expect(long.hint).toContain("farmctl renew");
    expect(await client.operations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(h.inventory.get("builder-1")).toBeNull();
  });

  it("takes at most [leases] max as configured", async () => {
    h = harness('[leases]\nmax = "12h"\n');
    const { client } = await farmd();
    const err = await failure(
      client.startClone({ source: "gallifrey", name: "builder-1", lease: "13h" }),
    );
    expect(err.message).toBe("lease 13h is longer than [leases] max (12h)");
    const opId = await client.startClone({ source: "gallifrey", name: "builder-1", lease: "12h" });
    expect(
      (await followToEnd<CloneResult>(client.events(opId, true), () => {})).expiresAt,
    ).not.toBeNull();
  });
});

describe("POST /v1/vms/NAME/renew", () => {
  it("extends the lease from now and answers the new and the previous expiry", async () => {
    h = harness();
    await h.clone({ name: "builder-1", lease: "1h" });
    const previous = h.inventory.get("builder-1")!.expiresAt!;
    const { client } = await farmd();
    const t0 = Date.now();
    const r = await client.renew("builder-1", "3h");
    expect(r).toMatchObject({
      name: "builder-1",
      instance: "builder-1.xivo.vm.farm",
      previousExpiresAt: previous,
    });
    expect(Date.parse(r.expiresAt)).toBeGreaterThanOrEqual(t0 + 3 * HOUR);
    expect(Date.parse(r.expiresAt)).toBeLessThanOrEqual(Date.now() + 3 * HOUR);
    expect(h.inventory.get("builder-1")?.expiresAt).toBe(r.expiresAt);
    expect((await client.vm("builder-1")).vm.expiresAt).toBe(r.expiresAt);
  });

  it("refuses what has no lease, a bad duration, and a VM whose destroy has begun; changes nothing", async () => {
    h = harness();
    await h.clone({ name: "builder-1", lease: "1h" });
    await h.clone({ name: "keep" });
    const { client } = await farmd();
    const leased = h.inventory.get("builder-1")!.expiresAt;
    const err = (p: Promise<unknown>) => failure(p);
    const handMade = await err(client.renew("gallifrey", "2h"));
    expect(handMade).toMatchObject({ code: "not_found", exitCode: 65 });
    expect(handMade.message).toBe("no VM 'gallifrey' in farmctl's inventory");
    const none = await err(client.renew("keep", "2h"));
    expect(none).toMatchObject({ code: "bad_input", exitCode: 65 });
    expect(none.message).toBe("VM 'keep' has no lease: it stays until it is destroyed");
    expect((await err(client.renew("builder-1", "2"))).message).toBe(
      'lease "2" is not a duration (a number needs a unit)',
    );
    expect((await err(client.renew("builder-1", "40d"))).message).toBe(
      "lease 40d is longer than [leases] max (30d)",
    );
    // A destroy stopped by farmd's stop holds the VM: its lease can no longer be renewed.
    const opId = h.journal.createOperation("destroy", "builder-1", { name: "builder-1" });
    h.journal.setOperationState(opId, "interrupted");
    const busy = await err(client.renew("builder-1", "2h"));
    expect(busy).toMatchObject({ code: "busy", exitCode: 75 });
    expect(busy.message).toBe(
      `VM 'builder-1' is busy: operation ${opId} (destroy) is interrupted on it`,
    );
    expect(h.inventory.get("builder-1")?.expiresAt).toBe(leased);
    expect(h.inventory.get("keep")?.expiresAt).toBeNull();
  });

  it("takes a body {lease} and nothing else", async () => {
    h = harness();
    await h.clone({ name: "builder-1", lease: "1h" });
    const { ops } = await farmd();
    const res = await fetchOver(served!.socket, "/v1/vms/builder-1/renew", {
      lease: "2h",
      owner: "me",
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("owner");
    expect(ops.inventory.get("builder-1")?.expiresAt).toBe(h.inventory.get("builder-1")?.expiresAt);
  });
});

describe("the lease reaper", () => {
  it("destroys a VM whose lease ran out as farmd's journaled destroy; the host is as before the clone", async () => {
    h = harness();
    const before = h.snapshot();
    const { client, logs } = await farmd(10);
    expect(logs).toContain("info: leases: expired VMs are destroyed, checked every 10ms");
    const opId = await client.startClone({ source: "gallifrey", name: "builder-1", lease: "1s" });
    await followToEnd(client.events(opId, true), () => {});
    await until(() => h.inventory.get("builder-1") === null);
    const [destroy] = destroysOf("builder-1");
    await until(() => !served!.ops.isRunning(destroy!.id));
    expect(h.journal.operation(destroy!.id)).toMatchObject({
      state: "succeeded",
      params: { name: "builder-1", expiredLease: true },
    });
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
    expect(h.runner.instances.has("builder-1.xivo.vm.farm")).toBe(false);
    await rounds(served!, 3);
    expect(destroysOf("builder-1")).toHaveLength(1);
    expect(linesWith(logs, "lease ran out")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^info: VM builder-1: its lease ran out at \\S+; destroying it \\(operation ${destroy!.id}\\)$`,
        ),
      ),
    ]);
  });

  it("leaves protected, unexpired, unleased and busy VMs alone, and says why once", async () => {
    h = harness();
    const protectedMember = devMember({});
    protectedMember.spec.protect = true;
    await h.clone({ name: "gallifrey-dev", lease: "2h", farm: protectedMember });
    await h.clone({ name: "later", lease: "2h" });
    await h.clone({ name: "keep" });
    await h.clone({ name: "stuck", lease: "2h" });
    await h.clone({ name: "gone", lease: "2h" });
    for (const name of ["gallifrey-dev", "stuck", "gone"]) expire(name);
    const held = h.journal.createOperation("destroy", "stuck", { name: "stuck" });
    h.journal.setOperationState(held, "interrupted");
    const { logs } = await farmd(10);
    await until(() => h.inventory.get("gone") === null);
    await rounds(served!, 3);
    expect(
      h.inventory
        .list()
        .map((v) => v.name)
        .sort(),
    ).toEqual(["gallifrey-dev", "keep", "later", "stuck"]);
    expect(destroysOf("gallifrey-dev")).toEqual([]);
    expect(destroysOf("stuck").map((o) => o.id)).toEqual([held]);
    expect(linesWith(logs, "VM gallifrey-dev")).toEqual([
      expect.stringMatching(
        /^warning: VM gallifrey-dev: its lease ran out at \S+, but farm rel-3-2 protects member dev \(protect = true\): not destroying it$/,
      ),
    ]);
    expect(linesWith(logs, "VM stuck")).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: VM stuck: its lease ran out at \\S+; waiting for operation ${held} \\(destroy, interrupted\\) before destroying it$`,
        ),
      ),
    ]);
    expect(linesWith(logs, "VM later")).toEqual([]);
    expect(linesWith(logs, "VM keep")).toEqual([]);
  });

  it("retries a destroy that fails every round, logging the failure once, until it succeeds", async () => {
    h = harness();
    await h.clone({ name: "builder-1", lease: "2h" });
    const after = h.snapshot();
    expire("builder-1");
    h.runner.faults.push(removeRefused);
    const f = await farmd(10);
    const { logs } = f;
    await until(() => destroysOf("builder-1").filter((o) => o.state === "rolled-back").length >= 3);
    // The host is compared between rounds, not in the middle of the next destroy or its rollback.
    f.leases!.stop();
    await until(
      () => !f.leases!.busy && destroysOf("builder-1").every((o) => o.state !== "running"),
    );
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(after));
    f.leases!.start();
    expect(linesWith(logs, "failed (operation")).toEqual([
      expect.stringMatching(
        /^error: VM builder-1: destroying it after its lease ran out failed \(operation \w+\): .+; tried again every 10ms$/,
      ),
    ]);
    h.runner.faults.splice(0);
    await until(() => h.inventory.get("builder-1") === null);
    expect(linesWith(logs, "destroying it (operation")).toHaveLength(1);
  });

  it("a renew answered first wins: the reaper's destroy is refused at admission, nothing journaled", async () => {
    h = harness();
    await h.clone({ name: "builder-1", lease: "2h" });
    expire("builder-1");
    const { client, ops } = await farmd();
    await client.renew("builder-1", "1h");
    const err = (await ops
      .start(destroyKind, { name: "builder-1", expiredLease: true })
      .catch((e: unknown) => e)) as FarmError;
    expect(err.code).toBe("lease_renewed");
    expect(err.message).toMatch(/^the lease of VM 'builder-1' was renewed \(it now ends \S+\)$/);
    expect(destroysOf("builder-1")).toEqual([]);
    expect(h.inventory.get("builder-1")?.state).toBe("ready");
  });

  it("is never asked for by a client: POST /v1/destroy refuses expiredLease", async () => {
    h = harness();
    await h.clone({ name: "builder-1", lease: "2h" });
    await farmd();
    const res = await fetchOver(served!.socket, "/v1/destroy", {
      request: { name: "builder-1", expiredLease: true },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("expiredLease");
    expect(destroysOf("builder-1")).toEqual([]);
  });
});

/** A raw POST over the socket: what a client other than farmctl could send. */
async function fetchOver(
  socket: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: { error: { message: string } } }> {
  const { request } = await import("node:http");
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath: socket, method: "POST", path, headers: { "content-type": "application/json" } },
      async (res) => {
        let text = "";
        for await (const chunk of res) text += chunk;
        resolve({ status: res.statusCode!, body: JSON.parse(text) });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}
