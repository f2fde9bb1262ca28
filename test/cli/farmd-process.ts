// A real farmd process on a temp socket and state dir, for CLI tests; killed by its PID.
import { execa, type ResultPromise } from "execa";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;
export const FARMCTL = join(ROOT, "dist/cli/main.js");
export const FARMD = join(ROOT, "dist/daemon/main.js");

export interface FarmdProcess {
  dir: string;
  config: string;
  socket: string;
  child: ResultPromise;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startFarmd(extraToml = ""): Promise<FarmdProcess> {
  const dir = mkdtempSync(join(tmpdir(), "farmd-"));
  const socket = join(dir, "farmd.sock");
  const config = join(dir, "farmd.toml");
  writeFileSync(config, `state_dir = "${dir}/state"\nsocket = "${socket}"\n${extraToml}`);
  const child = execa("node", [FARMD, "--config", config], { reject: false, all: true });
  let log = "";
  child.all?.on("data", (b: Buffer) => (log += b.toString()));
  for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(socket)) throw new Error(`farmd did not start:\n${log}`);
  return {
    dir,
    config,
    socket,
    child,
    stderr: () => log,
    async stop() {
      if (child.pid && child.exitCode === null) process.kill(child.pid, "SIGTERM");
      await child;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const farmctl = (config: string, ...args: string[]) =>
  execa("node", [FARMCTL, ...args], { reject: false, env: { FARMD_CONFIG: config } });
