// A real farmd process on a temp socket and state dir, for CLI tests; killed by its PID.
import { execa, type ResultPromise } from "execa";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";

const ROOT = new URL("../../", import.meta.url).pathname;
export const FARMCTL = join(ROOT, "dist/cli/main.js");
export const FARMD = join(ROOT, "dist/daemon/main.js");

/**
 * Resolves with the output so far once `text` shows in `out`; rejects with it if the stream ends
 * first. Tests wait for what a process says, never for time.
 */
export function outputShows(out: Readable | undefined, text: string): Promise<string> {
  if (!out) return Promise.reject(new Error("the process has no output stream to watch"));
  return new Promise((resolve, reject) => {
    let seen = "";
    const onData = (b: Buffer) => {
      seen += b.toString();
      if (!seen.includes(text)) return;
      out.off("data", onData).off("end", onEnd);
      resolve(seen);
    };
    const onEnd = () => reject(new Error(`the process ended without printing '${text}':\n${seen}`));
    out.on("data", onData).once("end", onEnd);
  });
}

export interface FarmdProcess {
  dir: string;
  config: string;
  socket: string;
  child: ResultPromise;
  stderr(): string;
  stop(): Promise<void>;
}

/** `given`: a directory to use (and keep) instead of a new one, to start farmd again on its state. */
export async function startFarmd(extraToml = "", given?: string): Promise<FarmdProcess> {
  const dir = given ?? mkdtempSync(join(tmpdir(), "farmd-"));
  const socket = join(dir, "farmd.sock");
  const config = join(dir, "farmd.toml");
  // No libguestfs appliance build at start: minutes of CPU and 700 MB per farmd under TCG.
  const noGuest = "guest.customize = []\n";
  writeFileSync(config, `state_dir = "${dir}/state"\nsocket = "${socket}"\n${noGuest}${extraToml}`);
  const child = execa("node", [FARMD, "--config", config], { reject: false, all: true });
  let log = "";
  child.all?.on("data", (b: Buffer) => (log += b.toString()));
  // Killed even if the test process exits without running afterAll (e.g. a hook timeout).
  const onExit = () => void (child.pid && child.exitCode === null && child.kill("SIGKILL"));
  process.once("exit", onExit);
  const stop = async () => {
    process.off("exit", onExit);
    if (child.pid && child.exitCode === null) process.kill(child.pid, "SIGTERM");
    await child;
    if (!given) rmSync(dir, { recursive: true, force: true });
  };
  // farmd logs this once the socket has its final mode and group: ready for any client.
  await outputShows(child.all, `listening on ${socket}`).catch(async (err: Error) => {
    await stop();
    throw new Error(`farmd did not start: ${err.message}`);
  });
  return { dir, config, socket, child, stderr: () => log, stop };
}

export const farmctl = (config: string, ...args: string[]) =>
  execa("node", [FARMCTL, ...args], { reject: false, env: { FARMD_CONFIG: config } });
