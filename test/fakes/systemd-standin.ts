// A stand-in for org.freedesktop.systemd1 on a private bus: scripted job results per unit.
import {
  DBusError,
  NameFlag,
  RequestNameReply,
  interface as dbusInterface,
  sessionBus,
} from "dbus-next";
import type { MessageBus } from "dbus-next";
import { MANAGER_IFACE, MANAGER_PATH, SYSTEMD_NAME } from "../../src/host/systemd.js";

/** How the stand-in answers a ReloadUnit/RestartUnit for one unit. */
export type JobScript =
  | { result: string; delayMs?: number; beforeReply?: boolean; noise?: boolean }
  | { error: string; text: string }
  | { never: true };

export interface ManagerCall {
  method: string;
  args: unknown[];
}

// dbus-next's decorators need experimentalDecorators; configureMembers does the same without them.
class Manager extends dbusInterface.Interface {
  constructor(private readonly standIn: SystemdStandIn) {
    super(MANAGER_IFACE);
  }
  Subscribe(): void {
    this.standIn.calls.push({ method: "Subscribe", args: [] });
  }
  ReloadUnit(name: string, mode: string): string {
    return this.standIn.job("ReloadUnit", name, mode, this);
  }
  RestartUnit(name: string, mode: string): string {
    return this.standIn.job("RestartUnit", name, mode, this);
  }
  // The copy throttle's scope (issue 12): the properties are kept in the call for the test to read.
  StartTransientUnit(name: string, mode: string, props: unknown[], aux: unknown[]): string {
    return this.standIn.job("StartTransientUnit", name, mode, this, [props, aux]);
  }
  // Calling it emits the signal; the return value is the signal's body.
  JobRemoved(id: number, job: string, unit: string, result: string): unknown[] {
    return [id, job, unit, result];
  }
}
Manager.configureMembers({
  methods: {
    Subscribe: {},
    ReloadUnit: { inSignature: "ss", outSignature: "o" },
    RestartUnit: { inSignature: "ss", outSignature: "o" },
    StartTransientUnit: { inSignature: "ssa(sv)a(sa(sv))", outSignature: "o" },
  },
  signals: { JobRemoved: { signature: "uoss" } },
});

export class SystemdStandIn {
  readonly calls: ManagerCall[] = [];
  private nextId = 1;
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    readonly bus: MessageBus,
    private readonly script: (unit: string) => JobScript,
  ) {}

  /** Connects to `address`, takes the name org.freedesktop.systemd1 and exports the Manager. */
  static async start(
    address: string,
    script: (unit: string) => JobScript,
  ): Promise<SystemdStandIn> {
    const bus = sessionBus({ busAddress: address });
    bus.on("error", () => {});
    const standIn = new SystemdStandIn(bus, script);
    bus.export(MANAGER_PATH, new Manager(standIn));
    await standIn.acquire();
    return standIn;
  }

  async acquire(): Promise<void> {
    const reply = await this.bus.requestName(SYSTEMD_NAME, NameFlag.DO_NOT_QUEUE);
    if (reply !== RequestNameReply.PRIMARY_OWNER) throw new Error(`cannot own ${SYSTEMD_NAME}`);
  }

  async release(): Promise<void> {
    await this.bus.releaseName(SYSTEMD_NAME);
  }

  job(method: string, unit: string, mode: string, manager: Manager, more: unknown[] = []): string {
    this.calls.push({ method, args: [unit, mode, ...more] });
    const s = this.script(unit);
    if ("error" in s) throw new DBusError(s.error, s.text);
    const id = this.nextId++;
    const path = `${MANAGER_PATH}/job/${id}`;
    if ("never" in s) return path;
    const emit = (): void => {
      // Another client's job ending first must not be mistaken for ours.
      if (s.noise)
        manager.JobRemoved(
          id + 1000,
          `${MANAGER_PATH}/job/${id + 1000}`,
          "other.service",
          "failed",
        );
      manager.JobRemoved(id, path, unit, s.result);
    };
    if (s.beforeReply) emit();
    else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        emit();
      }, s.delayMs ?? 20);
      this.timers.add(t);
    }
    return path;
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.bus.disconnect();
  }
}
