// systemd over D-Bus against a real private dbus-daemon and a stand-in org.freedesktop.systemd1.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionBus, type MessageBus } from "dbus-next";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { failure } from "../fakes/scripted-runner.js";
import { FarmError } from "../../src/api/errors.js";
import { reloadUnit, restartUnit, type SystemdOptions } from "../../src/host/systemd.js";
import { findDbusDaemon, startPrivateBus, type PrivateBus } from "../fakes/private-bus.js";
import { SystemdStandIn, type JobScript } from "../fakes/systemd-standin.js";

const daemon = findDbusDaemon();

const scripts: Record<string, JobScript> = {
  "bind9.service": { result: "done", delayMs: 20, noise: true },
  "early.service": { result: "done", beforeReply: true, noise: true },
  "isc-dhcp-server.service": { result: "done" },
  "broken.service": { result: "failed" },
  "missing.service": {
    error: "org.freedesktop.systemd1.NoSuchUnit",
    text: "Unit missing.service not found.",
  },
  "stuck.service": { never: true },
};

describe("systemd over a private D-Bus", () => {
  let bus: PrivateBus | undefined;
  let standIn: SystemdStandIn | undefined;
  const made: MessageBus[] = [];
  let opts: SystemdOptions;

  beforeAll(async () => {
    // a missing daemon is a broken install (install-deps.sh has dbus), not a reason to skip
    if (!daemon) throw new Error("dbus-daemon not found: apt-get install dbus-daemon");
    bus = await startPrivateBus(daemon);
    standIn = await SystemdStandIn.start(
      bus.address,
      (unit) => scripts[unit] ?? { result: "done" },
    );
    const address = bus.address;
    opts = {
      timeoutMs: 5_000,
      busFactory: () => {
        const b = sessionBus({ busAddress: address });
        vi.spyOn(b, "disconnect");
        made.push(b);
        return b;
      },
    };
  });

  afterAll(async () => {
    standIn?.stop();
    await bus?.stop();
  });

  const lastBus = (): MessageBus => made[made.length - 1]!;

  it("reloads bind9.service: Subscribe first, then ReloadUnit with mode replace", async () => {
    standIn!.calls.length = 0;
    await reloadUnit("bind9.service", opts);
    expect(standIn!.calls).toEqual([
      { method: "Subscribe", args: [] },
      { method: "ReloadUnit", args: ["bind9.service", "replace"] },
    ]);
    expect(lastBus().disconnect).toHaveBeenCalledTimes(1);
  });

  it("handles JobRemoved arriving before the ReloadUnit reply", async () => {
    await reloadUnit("early.service", { ...opts, timeoutMs: 2_000 });
  });

  it("restarts isc-dhcp-server.service with RestartUnit", async () => {
    standIn!.calls.length = 0;
    await restartUnit("isc-dhcp-server.service", opts);
    expect(standIn!.calls[1]).toEqual({
      method: "RestartUnit",
      args: ["isc-dhcp-server.service", "replace"],
    });
  });

  it("reports a job ending with 'failed' as reload_failed naming the unit", async () => {
    const err = await failure(reloadUnit("broken.service", opts));
    expect(err.code).toBe("reload_failed");
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain("broken.service");
    expect(err.message).toContain('"failed"');
    expect(err.hint).toContain("journalctl -u broken.service");
    expect(err.details).toMatchObject({ unit: "broken.service", result: "failed" });
    expect(lastBus().disconnect).toHaveBeenCalledTimes(1);
  });

  it("reports an unknown unit (NoSuchUnit) clearly", async () => {
    const err = await failure(reloadUnit("missing.service", opts));
    expect(err.code).toBe("reload_failed");
    expect(err.message).toContain("missing.service");
    expect(err.message).toContain("org.freedesktop.systemd1.NoSuchUnit");
    expect(err.hint).toContain("unit");
    expect(err.details).toMatchObject({ dbusError: "org.freedesktop.systemd1.NoSuchUnit" });
  });

  it("gives up after timeoutMs when the job never ends", async () => {
    const started = Date.now();
    const err = await failure(reloadUnit("stuck.service", { ...opts, timeoutMs: 300 }));
    expect(err.code).toBe("reload_failed");
    expect(err.message).toContain("no result after 300 ms");
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(lastBus().disconnect).toHaveBeenCalledTimes(1);
  });

  it("uses DBUS_SYSTEM_BUS_ADDRESS with the default bus factory", async () => {
    const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
    process.env.DBUS_SYSTEM_BUS_ADDRESS = bus!.address;
    try {
      await reloadUnit("bind9.service", { timeoutMs: 5_000 });
    } finally {
      if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
    }
  });

  it("is 'unavailable' (69) on a bus where nobody owns org.freedesktop.systemd1", async () => {
    await standIn!.release();
    try {
      const err = await failure(reloadUnit("bind9.service", opts));
      expect(err.code).toBe("unavailable");
      expect(err.exitCode).toBe(69);
      expect(err.hint).toContain("reload = [");
    } finally {
      await standIn!.acquire();
    }
  });
});

describe("systemd with no bus at all", () => {
  it("is 'unavailable' (69) with a hint to configure reload = [argv]", async () => {
    const dir = mkdtempSync(join(tmpdir(), "farmctl-nobus-"));
    const saved = process.env.DBUS_SYSTEM_BUS_ADDRESS;
    process.env.DBUS_SYSTEM_BUS_ADDRESS = `unix:path=${join(dir, "absent.sock")}`;
    try {
      const err = await failure(reloadUnit("bind9.service", { connectTimeoutMs: 2_000 }));
      expect(err.code).toBe("unavailable");
      expect(err.exitCode).toBe(69);
      expect(err.message).toContain("absent.sock");
      expect(err.hint).toContain("reload = [");
    } finally {
      if (saved === undefined) delete process.env.DBUS_SYSTEM_BUS_ADDRESS;
      else process.env.DBUS_SYSTEM_BUS_ADDRESS = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
