// [guest] parallel and the start-time appliance build, through farmd's API over the simulated
// host01: sessions never overlap past the limit, a queued clone cancels at once, and a clone that
// starts while farmd builds the appliance waits for that build instead of starting a second one.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CloneResult } from "../../src/api/clone.js";
import type { OpEvent } from "../../src/api/events.js";
import { followToEnd } from "../../src/client/http.js";
import { guestfsCacheDir } from "../../src/config/paths.js";
import type { GuestPort, GuestSession } from "../../src/ops/ports.js";
import type { FakeGuest } from "../fakes/fake-guest.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, until, type Harness } from "../ops/clone-harness.js";
import { serveFarmd } from "./farmd-server.js";

let h: Harness;
/** What the test opened, closed after it even when it fails: the socket, then the harness. */
const opened: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The harness's libguestfs, recording each session's start and end; inspect waits for `release`. */
class GatedGuest implements GuestPort {
  readonly log: string[] = [];
  active = 0;
  maxActive = 0;
  prepares = 0;
  private gate = deferred();
  readonly prepareGate = deferred();

  constructor(private readonly inner: FakeGuest) {}

  release(): void {
    this.gate.resolve();
  }

  async open(device: string, onPid?: (pid: number) => void): Promise<GuestSession> {
    const s = await this.inner.open(device, onPid);
    this.log.push(`start ${device}`);
    this.maxActive = Math.max(this.maxActive, ++this.active);
    let closed = false;
    return {
      inspect: async () => (await this.gate.promise, s.inspect()),
      readFile: (p) => s.readFile(p),
      apply: (e) => s.apply(e),
      close: async () => {
        if (!closed) (this.log.push(`end ${device}`), this.active--);
        closed = true;
        await s.close();
      },
    };
  }

  async prepare() {
    this.prepares++;
    await this.prepareGate.promise;
    return { ms: 1234, cached: false };
  }
}

async function farmd(toml = "") {
  h = harness(toml);
  opened.push(() => h.cleanup());
  const guest = new GatedGuest(h.guest);
  const served = await serveFarmd(h, 2, { guest });
  opened.push(() => served.close());
  const { client, ops } = served;
  const start = (name: string) => client.startClone({ source: "gallifrey", name });
  const end = (opId: string) => followToEnd<CloneResult>(client.events(opId, true), () => {});
  const said = (opId: string, message: string) =>
    ops.journal.events(opId).some((e) => {
      const ev = e.event as OpEvent;
      return ev.type === "info" && ev.message === message;
    });
  return { guest, client, ops, start, end, said, logs: served.logs };
}

const SLOT_WAIT = "waiting for a libguestfs slot ([guest] parallel = 1)";
/** The clone's disk as customize opens it: adopted by Ganeti before the copy, `<uuid>.disk0`. */
const dev = (name: string) => `/dev/all/${h.runner.instances.get(`${name}.xivo.vm.farm`)!.lv}`;

describe("[guest] parallel", () => {
  it("runs one libguestfs session at a time by default: the second clone waits, queued", async () => {
    const f = await farmd();
    const ids = [await f.start("build1"), await f.start("build2")];
    const results = ids.map(f.end);
    await until(() => f.guest.log.length === 1);
    const first = f.guest.log[0] === `start ${dev("build1")}` ? 0 : 1;
    const second = ids[1 - first]!;
    await until(() => f.said(second, SLOT_WAIT));
    expect(f.ops.get(second).state).toBe("queued");
    expect(f.guest.log).toHaveLength(1);
    f.guest.release();
    await Promise.all(results);
    const [a, b] = first === 0 ? ["build1", "build2"] : ["build2", "build1"];
    expect(f.guest.log).toEqual([
      `start ${dev(a)}`,
      `end ${dev(a)}`,
      `start ${dev(b)}`,
      `end ${dev(b)}`,
    ]);
    expect(f.guest.maxActive).toBe(1);
    expect(f.ops.get(second).state).toBe("succeeded");
  });

  it("runs two at once with parallel = 2", async () => {
    const f = await farmd("[guest]\nparallel = 2\n");
    const results = [await f.start("build1"), await f.start("build2")].map(f.end);
    await until(() => f.guest.log.length === 2);
    expect(f.guest.log.every((l) => l.startsWith("start "))).toBe(true);
    f.guest.release();
    await Promise.all(results);
    expect(f.guest.maxActive).toBe(2);
  });

  it("cancels a clone queued for a libguestfs slot at once and rolls it back", async () => {
    const f = await farmd();
    const holder = f.end(await f.start("build1"));
    await until(() => f.guest.log.length === 1);
    const opId = await f.start("gallifrey-dev");
    await until(() => f.said(opId, SLOT_WAIT));
    await f.client.cancel(opId);
    // It ends although the slot is still held by build1's session.
    const err = await failure(f.end(opId));
    expect(err.message).toContain("cancelled");
    expect(f.ops.get(opId).state).toBe("rolled-back");
    expect(f.ops.journal.steps(opId).find((s) => s.name === "customize")).toMatchObject({
      state: "undone",
    });
    expect(h.runner.instances.has("gallifrey-dev.xivo.vm.farm")).toBe(false);
    expect([...h.runner.lvs.values()].filter((l) => l.tags?.includes(`farmd_op_${opId}`))).toEqual(
      [],
    );
    expect(f.guest.log).toEqual([`start ${dev("build1")}`]);
    f.guest.release();
    expect((await holder).ip).toBe("10.10.60.6");
    expect(f.guest.log).toEqual([`start ${dev("build1")}`, `end ${dev("build1")}`]);
  });
});

describe("the appliance built at farmd start", () => {
  it("reports building then ready in health, and a clone waits for it before its session", async () => {
    const f = await farmd();
    f.ops.prepareGuest();
    f.ops.prepareGuest(); // a second call does not start a second build
    expect((await f.client.health()).guestfs).toMatchObject({ state: "building", seconds: null });
    const opId = await f.start("gallifrey-dev");
    const result = f.end(opId);
    await until(() => f.said(opId, "waiting for the guestfs appliance farmd is building"));
    expect(f.ops.get(opId).state).toBe("queued");
    expect(f.guest.log).toEqual([]);
    f.guest.release();
    f.guest.prepareGate.resolve();
    await result;
    expect(f.guest.log).toEqual([`start ${dev("gallifrey-dev")}`, `end ${dev("gallifrey-dev")}`]);
    expect(f.guest.prepares).toBe(1);
    const cache = guestfsCacheDir(h.config, join(h.root, "state"));
    expect((await f.client.health()).guestfs).toEqual({
      state: "ready",
      detail: `built in ${cache}`,
      seconds: 1.2,
    });
    expect(f.logs).toContain(`info: guestfs appliance ready in 1.2 s (cache ${cache})`);
  });

  it("is not built when [guest] customize is empty", async () => {
    const f = await farmd("[guest]\ncustomize = []\n");
    f.ops.prepareGuest();
    expect(f.guest.prepares).toBe(0);
    expect((await f.client.health()).guestfs).toEqual({
      state: "off",
      detail: "[guest] customize is empty",
      seconds: null,
    });
  });
});
