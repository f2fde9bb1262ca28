// Starts the test guest (or a guest-less QEMU) under TCG with Ganeti-style monitor sockets, and
// ends it by the PID from its pidfile. KVM cannot run a Linux guest on the project's machines.
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa } from "execa";

const BUILD = join(import.meta.dirname, "build-guest.sh");
export const QEMU = "qemu-system-x86_64";

export async function hasQemu(): Promise<boolean> {
  const r = await execa(QEMU, ["--version"], { reject: false });
  return r.exitCode === 0;
}

/** Builds (or reuses) vmlinuz + initrd.gz; returns their directory. */
export async function buildGuest(): Promise<string> {
  const r = await execa("bash", [BUILD], { timeout: 280_000 });
  return r.stdout.trim().split("\n").at(-1) ?? "";
}

export interface VmOptions {
  /** Directory that holds `<instance>.monitor`, `<instance>.qmp`, the pidfile and the serial log. */
  dir: string;
  instance: string;
  /** vmlinuz + initrd.gz directory; null starts QEMU paused (-S) with no guest at all. */
  guestDir: string | null;
  balloon?: boolean;
  memMiB?: number;
  kernelArgs?: string;
  extraArgs?: string[];
  /** Serve the console as Ganeti does, on `<instance>.serial` (no history), instead of a log file. */
  serialSocket?: boolean;
}

export interface Vm {
  pid: number;
  serial: string;
  startedAt: number;
  stop(): Promise<void>;
}

export async function startVm(o: VmOptions): Promise<Vm> {
  const base = join(o.dir, o.instance);
  const pidfile = `${base}.pid`;
  const serial = `${base}.serial.log`;
  const guest =
    o.guestDir === null
      ? ["-S"]
      : [
          "-kernel",
          join(o.guestDir, "vmlinuz"),
          "-initrd",
          join(o.guestDir, "initrd.gz"),
          "-append",
          `console=ttyS0 quiet panic=-1 ${o.kernelArgs ?? ""}`.trim(),
          "-serial",
          o.serialSocket ? `unix:${base}.serial,server,nowait` : `file:${serial}`,
          "-no-reboot",
        ];
  const startedAt = Date.now();
  // prettier-ignore
  await execa(QEMU, [
    "-accel", "tcg", "-machine", "q35", "-m", String(o.memMiB ?? 512), "-smp", "1",
    "-display", "none", "-nodefaults",
    ...guest,
    ...(o.balloon === false ? [] : ["-device", "virtio-balloon-pci,id=balloon0"]),
    "-monitor", `unix:${base}.monitor,server,nowait`,
    "-qmp", `unix:${base}.qmp,server,nowait`,
    ...(o.extraArgs ?? []),
    "-daemonize", "-pidfile", pidfile,
  ], { timeout: 20_000 });
  const pid = Number(readFileSync(pidfile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`bad pid in ${pidfile}`);
  return { pid, serial, startedAt, stop: () => killPid(pid, pidfile) };
}

/** Waits for a line of the serial log matching `re`; returns it. */
export async function waitForSerial(vm: Vm, re: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const log = existsSync(vm.serial) ? readFileSync(vm.serial, "utf8") : "";
    const line = log.split("\n").find((l) => re.test(l));
    if (line !== undefined) return line.replace(/\r$/, "");
    if (Date.now() > deadline) {
      throw new Error(
        `no ${re} on the serial console within ${timeoutMs} ms; log:\n${log.slice(-2000)}`,
      );
    }
    await sleep(100);
  }
}

// A daemonized QEMU is not our child: a zombie left for a non-reaping PID 1 counts as gone, and
// a PID reused by another process (QEMU exited on its own) must not be signalled.
function alive(pid: number, mark: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") return false;
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(mark);
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after 5 s, to `pid` only while its command line contains `mark`. */
export async function killPid(pid: number, mark: string): Promise<void> {
  for (const [signal, waitMs] of [
    ["SIGTERM", 5000],
    ["SIGKILL", 5000],
  ] as const) {
    if (!alive(pid, mark)) return;
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + waitMs;
    while (alive(pid, mark) && Date.now() < deadline) await sleep(50);
  }
  if (alive(pid, mark)) throw new Error(`QEMU pid ${pid} survived SIGKILL`);
}
