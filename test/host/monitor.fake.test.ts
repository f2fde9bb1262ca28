// Monitor over fake sockets that answer with the recorded QEMU 7.2 bytes, sent in small chunks:
// protocol choice, polling, warnings, errors and timeouts. The real QEMU: monitor.qemu.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BadInput, FarmError, Unavailable } from "../../src/api/errors.js";
import { MiB, hmpCommand } from "../../src/host/hmp.js";
import { Monitor, type BalloonProgress } from "../../src/host/monitor.js";
import { parseQmpStream, qmpExecute } from "../../src/host/qmp.js";
import {
  type FakeServer,
  fakeHmp,
  fakeQmp,
  hmpBalloonReply,
  hmpInfoBalloonReply,
  recording,
  silentServer,
  splitHmp,
} from "../fakes/fake-qemu-monitor.js";

const INSTANCE = "gallifrey-dev.xivo.vm.farm";

describe("Monitor over fake sockets replaying the recordings", () => {
  let dir: string;
  let fakes: FakeServer[];
  const hmpPath = (): string => join(dir, `${INSTANCE}.monitor`);
  const qmpPath = (): string => join(dir, `${INSTANCE}.qmp`);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "farm-mon-"));
    fakes = [];
  });
  afterEach(async () => {
    await Promise.all(fakes.map((f) => f.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** A guest whose balloon moves `stepMiB` toward the target at each query, unless paused. */
  function guest(startMiB: number, stepMiB: number) {
    const g = { actual: startMiB, target: startMiB };
    const tick = (): number => {
      const d = Math.max(-stepMiB, Math.min(stepMiB, g.target - g.actual));
      g.actual += d;
      return g.actual;
    };
    const hmp = (cmd: string): string => {
      const m = /^balloon (\d+)$/.exec(cmd);
      if (m) {
        g.target = Number(m[1]);
        return hmpBalloonReply(g.target);
      }
      if (cmd === "info balloon") return hmpInfoBalloonReply(tick());
      throw new Error(`unexpected HMP command ${cmd}`);
    };
    const event = {
      event: "BALLOON_CHANGE",
      data: { actual: 0 },
      timestamp: { seconds: 1, microseconds: 0 },
    };
    const qmp = (req: { execute: string; arguments?: Record<string, unknown> }): object[] => {
      if (req.execute === "qmp_capabilities") return [{ return: {} }];
      if (req.execute === "balloon") {
        g.target = Number(req.arguments?.value) / MiB;
        return [{ return: {} }];
      }
      if (req.execute === "query-balloon") {
        const actual = tick() * MiB;
        // An event before the reply, as QEMU sends while the guest deflates.
        return [{ ...event, data: { actual } }, { return: { actual } }];
      }
      throw new Error(`unexpected QMP command ${req.execute}`);
    };
    return { g, hmp, qmp };
  }

  it("prefers HMP when both sockets exist, uses only the one it is told, null when none", async () => {
    const m = new Monitor({ monitorDir: dir });
    expect(m.protocolFor(INSTANCE)).toBeNull();
    fakes.push(await fakeQmp(qmpPath(), () => []));
    expect(m.protocolFor(INSTANCE)).toBe("qmp");
    fakes.push(await fakeHmp(hmpPath(), () => null));
    expect(m.protocolFor(INSTANCE)).toBe("hmp");
    expect(new Monitor({ monitorDir: dir, protocol: "qmp" }).protocolFor(INSTANCE)).toBe("qmp");
    expect(new Monitor({ monitorDir: dir, protocol: "auto" }).protocolFor(INSTANCE)).toBe("hmp");
  });

  it("balloons over HMP in MiB and reports progress in bytes", async () => {
    const { g, hmp } = guest(512, 64);
    const fake = await fakeHmp(hmpPath(), hmp);
    fakes.push(fake);
    const seen: BalloonProgress[] = [];
    const r = await new Monitor({ monitorDir: dir }).balloonAndWait(INSTANCE, 256 * MiB, {
      pollMs: 1,
      onProgress: (p) => seen.push(p),
    });
    expect(r).toMatchObject({ protocol: "hmp", reached: true, reachedBytes: 256 * MiB });
    expect(r.warning).toBeUndefined();
    expect(fake.received).toEqual([
      "info balloon",
      "balloon 256",
      ...Array(4).fill("info balloon"),
    ]);
    expect(seen.map((p) => p.actualBytes)).toEqual([448, 384, 320, 256].map((x) => x * MiB));
    expect(new Set(seen.map((p) => p.startBytes))).toEqual(new Set([512 * MiB]));
    expect(g.actual).toBe(256);
    await expect.poll(() => fake.closed).toBe(6); // one connection per command, each closed
  });

  it("balloons over QMP in bytes, skipping events", async () => {
    const { qmp } = guest(512, 128);
    const fake = await fakeQmp(qmpPath(), qmp);
    fakes.push(fake);
    const m = new Monitor({ monitorDir: dir });
    const r = await m.balloonAndWait(INSTANCE, 256 * MiB, { pollMs: 1 });
    expect(r).toMatchObject({ protocol: "qmp", reached: true, reachedBytes: 256 * MiB });
    const requests = fake.received.map((l) => JSON.parse(l) as { execute: string });
    expect(requests.map((q) => q.execute).slice(0, 4)).toEqual([
      "qmp_capabilities",
      "query-balloon",
      "qmp_capabilities",
      "balloon",
    ]);
    expect(requests[3]).toMatchObject({ arguments: { value: 256 * MiB } });
    expect(await m.queryBalloon(INSTANCE)).toBe(256 * MiB);
  });

  it("warns, without throwing, when the guest never answers the balloon", async () => {
    fakes.push(await fakeHmp(hmpPath(), guest(512, 0).hmp));
    const r = await new Monitor({ monitorDir: dir }).balloonAndWait(INSTANCE, 256 * MiB, {
      timeoutMs: 100,
      pollMs: 20,
    });
    expect(r).toMatchObject({ reached: false, reachedBytes: 512 * MiB });
    expect(r.warning).toMatch(/512 MiB .* asked for 256 MiB: the guest never answered/);
  });

  it("warns when QEMU has no balloon device (HMP and QMP)", async () => {
    const noDev = splitHmp(recording("qemu-7.2-hmp-balloon-no-device.txt")).reply;
    fakes.push(await fakeHmp(hmpPath(), () => noDev));
    const m = new Monitor({ monitorDir: dir });
    const r = await m.balloonAndWait(INSTANCE, 256 * MiB);
    expect(r).toMatchObject({ protocol: "hmp", reached: false, reachedBytes: null });
    expect(r.warning).toMatch(/no balloon device/);

    const [greeting, caps, notActive] = parseQmpStream(
      recording("qemu-7.2-qmp-balloon-no-device.txt"),
    );
    fakes.push(
      await fakeQmp(
        qmpPath(),
        (req) => [req.execute === "qmp_capabilities" ? caps! : notActive!],
        JSON.stringify(greeting) + "\r\n",
      ),
    );
    expect(await m.queryBalloon(INSTANCE, "qmp")).toBeNull();
    expect(await m.setBalloon(INSTANCE, 256 * MiB, "qmp")).toBe(false);
  });

  it("throws on a QMP error other than DeviceNotActive", async () => {
    fakes.push(
      await fakeQmp(qmpPath(), (req) =>
        req.execute === "qmp_capabilities"
          ? [{ return: {} }]
          : [{ error: { class: "GenericError", desc: "Parameter 'target' expects a size" } }],
      ),
    );
    await expect(new Monitor({ monitorDir: dir }).setBalloon(INSTANCE, MiB)).rejects.toThrow(
      /refused 'balloon'.*expects a size/,
    );
  });

  it("looks only for the socket of the protocol it is told", async () => {
    fakes.push(await fakeHmp(hmpPath(), () => null));
    const m = new Monitor({ monitorDir: dir, protocol: "qmp" });
    expect(m.protocolFor(INSTANCE)).toBeNull();
    await expect(m.queryBalloon(INSTANCE)).rejects.toThrow(`${qmpPath()} does not exist`);
  });

  it("names the socket and the fix when the instance has no socket", async () => {
    const err = await new Monitor({ monitorDir: dir })
      .queryBalloon(INSTANCE)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    const fe = err as FarmError;
    expect(fe.code).toBe("unavailable");
    expect(fe.message).toContain(hmpPath());
    expect(fe.hint).toMatch(/running.*monitor_dir/);
    await expect(hmpCommand(hmpPath(), "info balloon", 1000)).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("does not exist"),
    });
  });

  it("says nothing answers on a socket path that is not served", async () => {
    writeFileSync(hmpPath(), ""); // a leftover file: connect() is refused as on a stale socket
    await expect(hmpCommand(hmpPath(), "info balloon", 1000)).rejects.toThrow(/nothing answers/);
  });

  it("gives up after timeoutMs on a silent socket and closes it", async () => {
    const fake = await silentServer(hmpPath());
    fakes.push(fake);
    const t0 = Date.now();
    const err = await new Monitor({ monitorDir: dir, timeoutMs: 150 })
      .queryBalloon(INSTANCE)
      .catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(err).toMatchObject({
      code: "unavailable",
      message: expect.stringMatching(/no answer within 150 ms/),
    });
    await expect.poll(() => fake.closed).toBe(1);
    await expect(qmpExecute(hmpPath(), "query-balloon", undefined, 100)).rejects.toThrow(
      /no answer/,
    );
  });

  it("rejects a target that is not whole MiB and a name that could escape the directory", async () => {
    const m = new Monitor({ monitorDir: dir });
    await expect(m.setBalloon(INSTANCE, 256 * MiB + 1)).rejects.toBeInstanceOf(BadInput);
    expect(() => m.protocolFor("../etc/passwd")).toThrow(BadInput);
  });
});
