// The systemd throttle: StartTransientUnit over a real private dbus-daemon to a stand-in systemd
// (this machine has no systemd); dd is stopped until the scope holds it.
import { execa, type ResultPromise } from "execa";
import { sessionBus, type Variant } from "dbus-next";
import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Throttler } from "../../src/host/throttle/choose.js";
import { SystemdScopeThrottle } from "../../src/host/throttle/systemd-scope.js";
import { attachOwnLoop, type OwnLoop } from "../fakes/own-loop.js";
import { findDbusDaemon, startPrivateBus, type PrivateBus } from "../fakes/private-bus.js";
import { SystemdStandIn, type JobScript } from "../fakes/systemd-standin.js";

const daemon = findDbusDaemon();
const LIMIT = 50 * 2 ** 20;

const state = (pid: number): string =>
  /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1] ?? "?";

describe("the systemd scope throttle over a private D-Bus", () => {
  let bus: PrivateBus | undefined;
  let standIn: SystemdStandIn | undefined;
  let script: JobScript = { result: "done" };
  /** dd's state when the stand-in got the call. */
  let stateAtCall = "";
  const children: ResultPromise[] = [];
  /** A block device to name in the scope (the throttle stats it): this file's own loop device. */
  let own: OwnLoop | undefined;
  let loop = "";

  beforeAll(async () => {
    // a missing daemon is a broken install (install-deps.sh has dbus), not a reason to skip
    if (!daemon) throw new Error("dbus-daemon not found: apt-get install dbus-daemon");
    own = await attachOwnLoop();
    loop = own.dev.replace("/dev/", "");
    bus = await startPrivateBus(daemon);
    standIn = await SystemdStandIn.start(bus.address, () => {
      const [, , props] = standIn!.calls.at(-1)!.args as [string, string, [string, Variant][]];
      const pids = props.find(([k]) => k === "PIDs")?.[1].value as number[];
      stateAtCall = state(pids[0]!);
      return script;
    });
  });
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill("SIGKILL");
      await c.catch(() => {});
    }
  });
  afterAll(async () => {
    standIn?.stop();
    await bus?.stop();
    await own?.release();
  });

  const systemd = () => ({
    timeoutMs: 5_000,
    busFactory: () => sessionBus({ busAddress: bus!.address }),
  });
  const dd = (): ResultPromise => {
    const c = execa("dd", ["if=/dev/zero", "of=/dev/null", "bs=1M"], { reject: false });
    children.push(c);
    return c;
  };

  it("starts farmd-copy-<lv>.scope with dd's PID and IOWriteBandwidthMax, dd stopped till then", async () => {
    script = { result: "done", delayMs: 50 };
    standIn!.calls.length = 0;
    const mechanism = new SystemdScopeThrottle({ systemd: systemd() });
    const t = new Throttler(() => mechanism);
    const s = await t.start(`/dev/${loop}`, LIMIT);
    const c = dd();
    s.attach(c.pid!);
    await s.ready();
    expect(stateAtCall).toBe("T");
    expect(state(c.pid!)).not.toBe("T");
    const call = standIn!.calls.find((x) => x.method === "StartTransientUnit")!;
    const [unit, mode, props, aux] = call.args as [string, string, [string, Variant][], unknown[]];
    expect(unit).toMatch(new RegExp(`^farmd-copy-${loop}-[0-9a-z]+\\.scope$`));
    expect(mode).toBe("fail");
    expect(aux).toEqual([]);
    const prop = Object.fromEntries(props.map(([k, v]) => [k, v.value]));
    expect(prop.PIDs).toEqual([c.pid]);
    expect(prop.IOWriteBandwidthMax).toEqual([[`/dev/${loop}`, BigInt(LIMIT)]]);
    expect(prop.CollectMode).toBe("inactive-or-failed");
    expect(s.info).toMatchObject({ mechanism: "systemd", limitBytesPerSec: LIMIT });
    expect(s.info.detail).toContain(`${unit}, IOWriteBandwidthMax=/dev/${loop} ${LIMIT}`);
    await s.release();
  });

  it("paces dd instead when systemd refuses the scope, and dd runs on", async () => {
    script = { error: "org.freedesktop.DBus.Error.AccessDenied", text: "Access denied" };
    const t = new Throttler(() => new SystemdScopeThrottle({ systemd: systemd() }));
    const s = await t.start(`/dev/${loop}`, LIMIT);
    const c = dd();
    s.attach(c.pid!);
    await s.ready();
    expect(stateAtCall).toBe("T");
    expect(s.info.mechanism).toBe("pacing");
    expect(s.info.detail).toMatch(
      /systemd failed: StartTransientUnit of farmd-copy-.*refused: .*AccessDenied.*; paced instead/,
    );
    await s.release();
    expect(state(c.pid!)).not.toBe("T");
  });
});
