// Reloads or restarts a systemd unit over D-Bus (no systemctl, no shell) and waits for its job.
import { DBusError, Message, MessageType, systemBus, type MessageBus } from "dbus-next";
import { EXIT, FarmError, Unavailable } from "../api/errors.js";

export type UnitAction = "reload" | "restart";
/** Makes a fresh, unconnected bus; injected so tests can point at a private bus or a fake. */
export type BusFactory = () => MessageBus;

export interface SystemdOptions {
  busFactory?: BusFactory;
  /** Bound on reaching the bus (Hello answered), in ms. */
  connectTimeoutMs?: number;
  /** Bound on the whole call, job included, in ms. */
  timeoutMs?: number;
}

export const SYSTEMD_NAME = "org.freedesktop.systemd1";
export const MANAGER_PATH = "/org/freedesktop/systemd1";
export const MANAGER_IFACE = "org.freedesktop.systemd1.Manager";
const DEFAULT_SYSTEM_BUS = "unix:path=/var/run/dbus/system_bus_socket";
// Longer than systemd's own 90 s default job timeout, so systemd reports "timeout" itself first.
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const NO_SYSTEMD_HINT =
  'on a host without systemd, give `reload = ["argv", ...]` for this service in farmd.toml';

/** A unit's reload or restart did not end with "done". */
export class ReloadFailed extends FarmError {
  constructor(message: string, hint: string, details: Record<string, unknown>) {
    super("reload_failed", message, EXIT.failed, hint, details);
  }
}

/** The method name on org.freedesktop.systemd1.Manager for an action. */
export function managerMethod(action: UnitAction): "ReloadUnit" | "RestartUnit" {
  return action === "reload" ? "ReloadUnit" : "RestartUnit";
}

export function reloadUnit(unit: string, opts: SystemdOptions = {}): Promise<void> {
  return controlUnit(unit, "reload", opts);
}

export function restartUnit(unit: string, opts: SystemdOptions = {}): Promise<void> {
  return controlUnit(unit, "restart", opts);
}

/** Issues ReloadUnit/RestartUnit(unit, "replace") and resolves once its job is removed with "done". */
export function controlUnit(
  unit: string,
  action: UnitAction,
  opts: SystemdOptions = {},
): Promise<void> {
  return managerJob(
    { unit, method: managerMethod(action), verb: action },
    "ss",
    [unit, "replace"],
    opts,
  );
}

/** What a Manager job is about, for its errors: the unit, the method, the verb in a hint. */
export interface JobCall {
  unit: string;
  method: string;
  verb: string;
}

/**
 * Calls a Manager method that queues a job (ReloadUnit, StartTransientUnit, ...) and resolves once
 * the job is removed with "done".
 */
export async function managerJob(
  job: JobCall,
  signature: string,
  body: unknown[],
  opts: SystemdOptions = {},
): Promise<void> {
  const address = opts.busFactory ? "the injected bus" : systemBusAddress();
  let bus: MessageBus;
  try {
    bus = (opts.busFactory ?? systemBus)();
  } catch (err) {
    throw noBus(address, err);
  }
  // dbus-next re-emits socket errors on the bus: an unheard 'error' event would crash the process.
  bus.on("error", () => {});
  const timers: NodeJS.Timeout[] = [];
  const deadline = <T>(ms: number, onTimeout: () => Error): Promise<T> =>
    new Promise((_, reject) => void timers.push(setTimeout(() => reject(onTimeout()), ms)));
  try {
    await Promise.race([
      connected(bus, address),
      deadline(opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, () =>
        noBus(address, new Error("no answer to Hello")),
      ),
    ]);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    await Promise.race([
      runJob(bus, job, signature, body),
      deadline(timeoutMs, () => jobError(job, `no result after ${timeoutMs} ms`)),
      // A socket error after Hello means the bus went away mid-job.
      new Promise<never>((_, reject) =>
        bus.once("error", (err) => reject(jobError(job, `bus lost: ${errText(err)}`))),
      ),
    ]);
  } finally {
    for (const t of timers) clearTimeout(t);
    bus.disconnect();
  }
}

/** The address dbus-next's systemBus() connects to. */
export function systemBusAddress(): string {
  return process.env.DBUS_SYSTEM_BUS_ADDRESS || DEFAULT_SYSTEM_BUS;
}

// Resolves once the bus answered Hello; calls made before that are only queued by dbus-next.
function connected(bus: MessageBus, address: string): Promise<void> {
  if ((bus as { name?: string | null }).name) return Promise.resolve();
  return new Promise((resolve, reject) => {
    bus.once("connect", () => resolve());
    bus.once("error", (err) => reject(noBus(address, err)));
  });
}

async function runJob(
  bus: MessageBus,
  call_: JobCall,
  signature: string,
  body: unknown[],
): Promise<void> {
  const { unit, method } = call_;
  // JobRemoved may arrive before the method reply names our job: keep every result seen.
  const seen = new Map<string, string>();
  let wanted: string | undefined;
  let settle: ((result: string) => void) | undefined;
  const onMessage = (msg: Message): void => {
    if (msg.type !== MessageType.SIGNAL || msg.member !== "JobRemoved") return;
    if (msg.interface !== MANAGER_IFACE || msg.path !== MANAGER_PATH) return;
    const [, job, , result] = msg.body as [number, string, string, string];
    seen.set(job, result);
    if (job === wanted) settle?.(result);
  };
  bus.on("message", onMessage);
  try {
    // The bus daemon routes broadcast signals only to matching rules; the AddMatch reply means it is live.
    await call(bus, {
      destination: "org.freedesktop.DBus",
      path: "/org/freedesktop/DBus",
      interface: "org.freedesktop.DBus",
      member: "AddMatch",
      signature: "s",
      body: [
        `type='signal',sender='${SYSTEMD_NAME}',path='${MANAGER_PATH}',` +
          `interface='${MANAGER_IFACE}',member='JobRemoved'`,
      ],
    }).catch((err) => {
      throw jobError(call_, `AddMatch refused: ${errText(err)}`);
    });
    // systemd emits job signals only while some client is subscribed.
    await manager(bus, "Subscribe", "", []).catch((err) => {
      if (err instanceof DBusError && err.type === "org.freedesktop.systemd1.AlreadySubscribed")
        return;
      throw mapCallError(err, call_);
    });
    const reply = await manager(bus, method, signature, body).catch((err) => {
      throw mapCallError(err, call_);
    });
    const job = String(reply?.body[0]);
    const result =
      seen.get(job) ??
      (await new Promise<string>((resolve) => {
        wanted = job;
        settle = resolve;
      }));
    if (result !== "done") {
      throw new ReloadFailed(
        `${method} of ${unit} ended with result "${result}"`,
        `see \`journalctl -u ${unit}\` and \`systemctl status ${unit}\``,
        { unit, action: call_.verb, job, result },
      );
    }
  } finally {
    bus.removeListener("message", onMessage);
  }
}

function manager(bus: MessageBus, member: string, signature: string, body: unknown[]) {
  return call(bus, {
    destination: SYSTEMD_NAME,
    path: MANAGER_PATH,
    interface: MANAGER_IFACE,
    member,
    signature,
    body,
  });
}

function call(bus: MessageBus, m: ConstructorParameters<typeof Message>[0]) {
  return bus.call(new Message(m));
}

// Turns the D-Bus error names systemd and the bus daemon use into FarmErrors with a fix.
function mapCallError(err: unknown, { unit, method, verb }: JobCall): FarmError {
  if (err instanceof FarmError) return err;
  const type = err instanceof DBusError ? err.type : "";
  const text = errText(err);
  if (
    type === "org.freedesktop.DBus.Error.ServiceUnknown" ||
    type === "org.freedesktop.DBus.Error.NameHasNoOwner"
  ) {
    return new Unavailable(`systemd is not on the system bus (${text})`, NO_SYSTEMD_HINT, {
      unit,
      dbusError: type,
    });
  }
  const hints: Record<string, string> = {
    "org.freedesktop.systemd1.NoSuchUnit": `check the \`unit\` key in farmd.toml; \`systemctl list-unit-files ${unit}\` lists what exists`,
    "org.freedesktop.systemd1.UnitMasked": `unmask it with \`systemctl unmask ${unit}\``,
    "org.freedesktop.systemd1.JobTypeNotApplicable": `${unit} cannot ${verb}; configure a restart or a \`reload = [argv]\``,
    "org.freedesktop.DBus.Error.AccessDenied": "farmd must run as root to control systemd units",
    "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired":
      "farmd must run as root to control systemd units",
  };
  const hint = hints[type] ?? `see \`systemctl status ${unit}\``;
  return new ReloadFailed(`${method} of ${unit} refused: ${text}`, hint, {
    unit,
    action: verb,
    dbusError: type || undefined,
  });
}

function jobError({ unit, method, verb }: JobCall, why: string): ReloadFailed {
  return new ReloadFailed(
    `${method} of ${unit}: ${why}`,
    `see \`systemctl status ${unit}\` and \`journalctl -u ${unit}\``,
    { unit, action: verb },
  );
}

function noBus(address: string, err: unknown): Unavailable {
  return new Unavailable(
    `cannot reach the system bus at ${address}: ${errText(err)}`,
    NO_SYSTEMD_HINT,
    {
      address,
    },
  );
}

function errText(err: unknown): string {
  if (err instanceof DBusError) return `${err.type}: ${err.text}`;
  return err instanceof Error ? err.message : String(err);
}
