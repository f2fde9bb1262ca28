// ServiceControl: argv reloads through the Runner, units through an injected (fake) D-Bus.
import { EventEmitter } from "node:events";
import { Message, type MessageBus } from "dbus-next";
import { describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { serviceControl } from "../../src/host/reload.js";
import { DryRunRunner, type RunOptions } from "../../src/host/runner.js";
import { MANAGER_IFACE, MANAGER_PATH } from "../../src/host/systemd.js";
import { ScriptedRunner, failure } from "../fakes/scripted-runner.js";

// Just enough of a dbus-next MessageBus: answers calls, then emits JobRemoved with `result`.
class FakeBus extends EventEmitter {
  name: string | null = null;
  readonly calls: string[] = [];
  disconnected = 0;
  constructor(private readonly result: string) {
    super();
    setImmediate(() => {
      this.name = ":1.42";
      this.emit("connect");
    });
  }
  async call(msg: Message): Promise<{ body: unknown[] }> {
    this.calls.push([msg.member, ...msg.body].join(" "));
    if (msg.member !== "ReloadUnit" && msg.member !== "RestartUnit") return { body: [] };
    const job = `${MANAGER_PATH}/job/7`;
    const unit = String(msg.body[0]);
    setTimeout(() => {
      const sig = Message.newSignal(MANAGER_PATH, MANAGER_IFACE, "JobRemoved", "uoss", [
        7,
        job,
        unit,
        this.result,
      ]);
      this.emit("message", sig);
    }, 5);
    return { body: [job] };
  }
  disconnect(): void {
    this.disconnected++;
  }
}

const fakeBus = (result: string) => {
  const bus = new FakeBus(result);
  return { bus, busFactory: () => bus as unknown as MessageBus };
};

describe("serviceControl with reload = [argv]", () => {
  it("runs the argv through the Runner, not as a read-only query", async () => {
    let seen: RunOptions | undefined;
    const runner = new ScriptedRunner([
      { argv: ["rndc", "reload", "farm"], effect: (_a, opts) => void (seen = opts) },
    ]);
    const control = serviceControl({ reload: ["rndc", "reload", "farm"] }, "reload", { runner });
    expect(control.describe()).toEqual(["rndc", "reload", "farm"]);
    await control.reload();
    runner.assertDone();
    expect(seen?.readOnly).toBeFalsy();
  });

  it("prefers reload over the default unit", async () => {
    const runner = new ScriptedRunner([{ argv: ["nginx", "-s", "reload"] }]);
    const control = serviceControl(
      { unit: "nginx.service", reload: ["nginx", "-s", "reload"] },
      "reload",
      { runner },
    );
    expect(control.describe()).toEqual(["nginx", "-s", "reload"]);
    await control.reload();
    runner.assertDone();
  });

  it("is skipped by the dry-run runner", async () => {
    const real = new ScriptedRunner();
    const dry = new DryRunRunner(real);
    await serviceControl({ reload: ["rndc", "reload"] }, "reload", { runner: dry }).reload();
    expect(dry.skipped).toEqual([["rndc", "reload"]]);
    expect(real.calls).toEqual([]);
  });

  it("turns a failing command into reload_failed with its stderr as the hint", async () => {
    const runner = new ScriptedRunner([
      {
        argv: ["/etc/init.d/isc-dhcp-server", "restart"],
        exitCode: 1,
        stderr: "dhcpd.conf line 12: semicolon expected.\n",
      },
    ]);
    const control = serviceControl(
      { reload: ["/etc/init.d/isc-dhcp-server", "restart"] },
      "restart",
      { runner },
    );
    const err = await failure(control.reload());
    expect(err.code).toBe("reload_failed");
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain("/etc/init.d/isc-dhcp-server restart");
    expect(err.hint).toContain("semicolon expected");
    expect(err.details).toMatchObject({ exitCode: 1 });
  });

  it("rejects an empty reload command and a section with neither key", () => {
    const runner = new ScriptedRunner();
    expect(() => serviceControl({ reload: [] }, "reload", { runner })).toThrow(/empty command/);
    expect(() => serviceControl({}, "reload", { runner })).toThrow(/neither/);
  });
});

describe("serviceControl with a systemd unit", () => {
  const runner = new ScriptedRunner();

  it("describes the D-Bus call it would make", () => {
    expect(serviceControl({ unit: "bind9.service" }, "reload", { runner }).describe()).toEqual([
      "systemctl-dbus",
      "ReloadUnit",
      "bind9.service",
    ]);
    expect(
      serviceControl({ unit: "isc-dhcp-server.service" }, "restart", { runner }).describe(),
    ).toEqual(["systemctl-dbus", "RestartUnit", "isc-dhcp-server.service"]);
  });

  it("restarts through the injected bus and disconnects it", async () => {
    const { bus, busFactory } = fakeBus("done");
    const control = serviceControl({ unit: "isc-dhcp-server.service" }, "restart", {
      runner,
      systemd: { busFactory, timeoutMs: 1_000 },
    });
    await control.reload();
    expect(bus.calls.slice(1)).toEqual([
      "Subscribe",
      "RestartUnit isc-dhcp-server.service replace",
    ]);
    expect(bus.calls[0]).toMatch(/^AddMatch type='signal'.*member='JobRemoved'/);
    expect(bus.disconnected).toBe(1);
    expect(runner.calls).toEqual([]);
  });

  it("reports a job result other than done as reload_failed", async () => {
    const { bus, busFactory } = fakeBus("dependency");
    const control = serviceControl({ unit: "nginx.service" }, "reload", {
      runner,
      systemd: { busFactory, timeoutMs: 1_000 },
    });
    const err = await failure(control.reload());
    expect(err.code).toBe("reload_failed");
    expect(err.message).toMatch(/nginx\.service.*"dependency"/);
    expect(err.hint).toContain("systemctl status nginx.service");
    expect(bus.disconnected).toBe(1);
  });

  it("reports a bus whose socket fails as unavailable", async () => {
    const bus = new EventEmitter() as EventEmitter & { disconnect(): void };
    bus.disconnect = () => {};
    setImmediate(() =>
      bus.emit("error", Object.assign(new Error("connect ENOENT"), { code: "ENOENT" })),
    );
    const control = serviceControl({ unit: "bind9.service" }, "reload", {
      runner,
      systemd: { busFactory: () => bus as unknown as MessageBus },
    });
    const err = await failure(control.reload());
    expect(err.code).toBe("unavailable");
    expect(err.exitCode).toBe(69);
  });
});
