// A private "system-like" dbus-daemon for tests: this machine has no systemd and no system bus.
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface PrivateBus {
  address: string;
  pid: number;
  dir: string;
  /** Kills the daemon by its PID and removes its temp dir; safe to call twice. */
  stop(): Promise<void>;
}

/** The dbus-daemon executable on PATH, or undefined. */
export function findDbusDaemon(): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    const file = join(dir, "dbus-daemon");
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

// Modeled on testbed/dbus/system-like.conf: allow everything, one unix socket in our temp dir.
function config(socket: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`;
}

/** Starts dbus-daemon in the foreground (--nofork) so its PID is our child's and never lost. */
export async function startPrivateBus(
  daemon = "dbus-daemon",
  timeoutMs = 10_000,
): Promise<PrivateBus> {
  const dir = mkdtempSync(join(tmpdir(), "farmctl-dbus-"));
  const conf = join(dir, "system-like.conf");
  writeFileSync(conf, config(join(dir, "system.sock")));
  const child = spawn(
    daemon,
    [`--config-file=${conf}`, "--print-address=1", "--nofork", "--nopidfile"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // Kill it even if the test process exits without running afterAll.
  const onExit = (): void => void child.kill("SIGKILL");
  process.once("exit", onExit);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener("exit", onExit);
    await killAndWait(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const address = await firstLine(child, timeoutMs);
    return { address, pid: child.pid ?? -1, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    const timer = setTimeout(
      () => reject(new Error(`dbus-daemon printed no address in ${timeoutMs} ms: ${err}`)),
      timeoutMs,
    );
    child.stderr?.on("data", (b: Buffer) => (err += b.toString()));
    child.stdout?.on("data", (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(`dbus-daemon exited (${code ?? signal}) before printing its address: ${err}`),
      );
    });
  });
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
  await exited;
  clearTimeout(timer);
}
