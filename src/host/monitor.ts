// Balloons a running instance's memory through its QEMU monitor socket: HMP `<instance>.monitor`
// (Ganeti 3.0) or QMP `<instance>.qmp` (Ganeti 3.1). Bytes everywhere; MiB only on the HMP wire.
import { lstatSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BadInput, OperationFailed, Unavailable } from "../api/errors.js";
import { MiB, hmpCommand, parseBalloonReply, parseInfoBalloon } from "./hmp.js";
import { balloonActual, qmpExecute } from "./qmp.js";

export type MonitorProtocol = "hmp" | "qmp";

export interface MonitorOptions {
  /** Ganeti's kvm control directory, e.g. /var/run/ganeti/kvm-hypervisor/ctrl. */
  monitorDir: string;
  /** Bound of one monitor conversation (connect, command, reply). */
  timeoutMs?: number;
  /** "auto" (default): HMP when its socket exists, else QMP; "hmp"/"qmp": only that socket. */
  protocol?: MonitorProtocol | "auto";
}

export interface BalloonProgress {
  instance: string;
  targetBytes: number;
  /** What the guest held before the balloon was set: until it moves, its driver has not answered. */
  startBytes: number;
  actualBytes: number | null;
  elapsedMs: number;
}

export interface BalloonWaitOptions {
  /** How long the guest may take to reach the target. */
  timeoutMs?: number;
  pollMs?: number;
  protocol?: MonitorProtocol;
  onProgress?: (p: BalloonProgress) => void;
}

export interface BalloonResult {
  protocol: MonitorProtocol;
  targetBytes: number;
  /** What QEMU last reported; null when it has no balloon device. */
  reachedBytes: number | null;
  reached: boolean;
  elapsedMs: number;
  /** Why the guest kept more memory than asked; the VM still runs. */
  warning?: string;
}

const SUFFIX: Record<MonitorProtocol, string> = { hmp: ".monitor", qmp: ".qmp" };
// Ganeti instance names are host names; anything else could escape monitorDir.
export const INSTANCE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export class Monitor {
  private readonly timeoutMs: number;

  constructor(private readonly opts: MonitorOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
  }

  socketPath(instance: string, protocol: MonitorProtocol): string {
    if (!INSTANCE.test(instance)) {
      throw new BadInput(`'${instance}' is not a valid instance name`, "give the instance's FQDN");
    }
    return join(this.opts.monitorDir, instance + SUFFIX[protocol]);
  }

  /** Which monitor socket the instance has: HMP first, unless options name one protocol. */
  protocolFor(instance: string): MonitorProtocol | null {
    return this.candidates().find((p) => isSocket(this.socketPath(instance, p))) ?? null;
  }

  private candidates(): MonitorProtocol[] {
    const p = this.opts.protocol ?? "auto";
    return p === "auto" ? ["hmp", "qmp"] : [p];
  }

  /** Asks QEMU to balloon the guest to `bytes`; false when QEMU has no balloon device. */
  async setBalloon(instance: string, bytes: number, protocol?: MonitorProtocol): Promise<boolean> {
    checkBalloonTarget(bytes);
    const p = this.resolve(instance, protocol);
    const path = this.socketPath(instance, p);
    if (p === "hmp") {
      return parseBalloonReply(await hmpCommand(path, `balloon ${bytes / MiB}`, this.timeoutMs));
    }
    const reply = await qmpExecute(path, "balloon", { value: bytes }, this.timeoutMs);
    if (reply.ok) return true;
    if (reply.errorClass === "DeviceNotActive") return false;
    throw new OperationFailed(`QEMU refused 'balloon' on ${path}: ${reply.desc}`, undefined, {
      socket: path,
      errorClass: reply.errorClass,
    });
  }

  /** The guest's current memory in bytes; null when QEMU has no balloon device. */
  async queryBalloon(instance: string, protocol?: MonitorProtocol): Promise<number | null> {
    const p = this.resolve(instance, protocol);
    const path = this.socketPath(instance, p);
    if (p === "hmp")
      return parseInfoBalloon(await hmpCommand(path, "info balloon", this.timeoutMs));
    const reply = await qmpExecute(path, "query-balloon", undefined, this.timeoutMs);
    if (reply.ok) return balloonActual(reply.value);
    if (reply.errorClass === "DeviceNotActive") return null;
    throw new OperationFailed(`QEMU refused 'query-balloon' on ${path}: ${reply.desc}`, undefined, {
      socket: path,
      errorClass: reply.errorClass,
    });
  }

  /**
   * Sets the target and polls until the guest reaches it or `timeoutMs` passes. A guest that
   * cannot balloon (no device, no driver, paused) is a warning in the result, not an error.
   * Bounded by timeoutMs plus one monitor conversation.
   */
  async balloonAndWait(
    instance: string,
    targetBytes: number,
    opts: BalloonWaitOptions = {},
  ): Promise<BalloonResult> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const pollMs = opts.pollMs ?? 250;
    const protocol = this.resolve(instance, opts.protocol);
    const started = Date.now();
    const result = (reachedBytes: number | null, warning?: string): BalloonResult => ({
      protocol,
      targetBytes,
      reachedBytes,
      reached: reachedBytes === targetBytes,
      elapsedMs: Date.now() - started,
      ...(warning === undefined ? {} : { warning }),
    });
    const noDevice = `QEMU has no balloon device for ${instance}: its memory stays as it is`;

    // Read first, so a guest that never moves can be told from one that moved and stopped.
    const before = await this.queryBalloon(instance, protocol);
    if (before === null) return result(null, noDevice);
    if (!(await this.setBalloon(instance, targetBytes, protocol))) return result(null, noDevice);
    for (;;) {
      const actual = await this.queryBalloon(instance, protocol);
      const elapsedMs = Date.now() - started;
      opts.onProgress?.({
        instance,
        targetBytes,
        startBytes: before,
        actualBytes: actual,
        elapsedMs,
      });
      if (actual === null) return result(null, noDevice);
      if (actual === targetBytes) return result(actual);
      const left = timeoutMs - elapsedMs;
      if (left <= 0) {
        const why =
          actual === before
            ? "the guest never answered the balloon (no virtio_balloon driver loaded, or the VM is paused)"
            : "the guest is still moving toward the target, or cannot give more";
        return result(
          actual,
          `${instance} has ${fmtMiB(actual)} after ${elapsedMs} ms, asked for ${fmtMiB(targetBytes)}: ${why}`,
        );
      }
      await sleep(Math.min(pollMs, left));
    }
  }

  private resolve(instance: string, protocol?: MonitorProtocol): MonitorProtocol {
    if (protocol) {
      const path = this.socketPath(instance, protocol);
      if (!isSocket(path)) throw missing(instance, [path]);
      return protocol;
    }
    const found = this.protocolFor(instance);
    if (!found)
      throw missing(
        instance,
        this.candidates().map((p) => this.socketPath(instance, p)),
      );
    return found;
  }
}

/** HMP speaks whole MiB, and QEMU reports 4 KiB pages: a target must be whole MiB to be reached. */
export function checkBalloonTarget(bytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes % MiB !== 0) {
    throw new BadInput(
      `balloon target ${bytes} bytes is not a positive whole number of MiB`,
      "give the target in whole MiB, e.g. 1G in farmd.toml's [balloon] target",
    );
  }
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}

function missing(instance: string, paths: string[]): Unavailable {
  return new Unavailable(
    `no monitor socket for instance '${instance}': ${paths.join(" or ")} does not exist`,
    `is '${instance}' running (gnt-instance list)? is [ganeti] monitor_dir in farmd.toml the kvm hypervisor's control directory (Ganeti: /var/run/ganeti/kvm-hypervisor/ctrl)?`,
    { instance, sockets: paths },
  );
}

const fmtMiB = (bytes: number): string => `${Math.floor(bytes / MiB)} MiB`;
