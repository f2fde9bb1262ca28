#!/usr/bin/env node
// farmd: owns the state, runs operations as jobs, serves the API on a unix socket.
import { chmodSync, chownSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { Command } from "commander";
import { asFarmError, Busy, ConfigError, type FarmError } from "../api/errors.js";
import { VERSION } from "../api/version.js";
import { loadConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { stateDir as resolveStateDir } from "../config/paths.js";
import { acquireHostLock } from "../host/lock.js";
import { sweepApplyLeftovers } from "../host/files.js";
import { openDb } from "../state/db.js";
import { crashHookFromEnv } from "./crash-hook.js";
import { groupId } from "./group.js";
import { stderrLog } from "./log.js";
import { logBugs } from "./bugs.js";
import { Operations } from "./operations.js";
import { apiServer } from "./server.js";
import { socketIdentify } from "./identify.js";
import { listenFromConfig, type TlsListener } from "./tls.js";
import { Ca } from "./ca/ca.js";
import type { CaListener } from "../api/ca.js";
import { ExecaRunner } from "../host/runner.js";
import { LeaseReaper } from "./leases.js";

/** A socket another farmd answers on is in use; one nobody answers on was left by a crash. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command("farmd")
    .description("the farmctl daemon")
    .version(`farmd ${VERSION}`)
    .option("--config <file>", "farmd.toml to use")
    .parse(argv)
    .opts<{ config?: string }>();
  const log = stderrLog();
  logBugs(log);
  const { config, path } = loadConfig(opts.config);
  const stateDir = resolveStateDir(config);
  mkdirSync(stateDir, { recursive: true, mode: 0o750 });
  const lock = acquireHostLock(stateDir, "farmd");
  const db = openDb(stateDir);
  const crash = crashHookFromEnv(process.env, (m) => log("warning", m));
  const ops = new Operations({
    config,
    db,
    stateDir,
    log,
    parallelCopies: config.copy.parallel,
    crash,
  });

  const socket = config.socket;
  if (existsSync(socket)) {
    if (await socketInUse(socket))
      throw new Busy(`another farmd answers on ${socket}`, "stop it first");
    rmSync(socket);
  }
  mkdirSync(dirname(socket), { recursive: true, mode: 0o755 });
  const gid = config.socket_group ? groupId(config.socket_group) : undefined;
  if (config.socket_group && gid === undefined)
    throw new ConfigError(
      `socket_group '${config.socket_group}' is not a group on this host`,
      "create it (groupadd) or fix socket_group in farmd.toml",
    );

  log("info", `farmd ${process.pid} starting (config ${path ?? "defaults"}, state ${stateDir})`);
  let stopping = false;
  let tls: TlsListener | null = null;
  const listen = async () => {
    tls = await listenFromConfig({ api: config.api, ops, ca, log });
    if (tls) log("info", `listening on ${tls.url} (TLS 1.3, client certificates of farmd's CA)`);
    return tls;
  };
  // `farmctl ca init` on a running farmd: the listener that waited for the CA starts, no restart.
  const listenAfterInit = async (): Promise<CaListener | undefined> => {
    if (tls || stopping) return undefined; // listenFromConfig answers null when [api] listen is off
    try {
      const started = await listen();
      return started ? { url: started.url } : undefined;
    } catch (err) {
      const e = asFarmError(err);
      log("error", withHint(e));
      return { error: `${e.message}${e.hint ? `; ${e.hint}, then restart farmd` : ""}` };
    }
  };
  const ca = new Ca({ db, stateDir, runner: new ExecaRunner(), onCreated: listenAfterInit });
  const server = apiServer(ops, socketIdentify({ roles: config.socket_roles, log }), ca);
  const leases = new LeaseReaper({ ops, intervalMs: config.leases.check_interval, log });
  // Handlers before the socket appears: a SIGTERM at any moment after that is a clean stop.
  const stop = async (signal: string, exitCode = 0) => {
    if (stopping) return;
    stopping = true;
    log("info", `${signal}: taking no new operations, interrupting running ones`);
    server.close();
    void tls?.close();
    leases.stop();
    await ops.stop();
    db.close();
    rmSync(socket, { force: true });
    lock.release();
    log("info", "stopped");
    process.exit(exitCode);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));

  const oldUmask = process.umask(0o117); // the socket is born 0660, never briefly world-writable
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  process.umask(oldUmask);
  chmodSync(socket, 0o660);
  if (gid !== undefined) chownSync(socket, 0, gid);
  log("info", `listening on ${socket}`);
  try {
    await listen();
  } catch (err) {
    const e = asFarmError(err);
    log("error", withHint(e));
    return stop("[api] listen", e.exitCode);
  }
  // The appliance builds behind the API (minutes under TCG); clones that need it wait for it.
  ops.prepareGuest();
  // A crash inside a family's edit left its candidate file beside the target: gone before recovery.
  for (const path of await sweepApplyLeftovers(editedDirs(config)))
    log("warning", `removed ${path}, left by an edit a crash cut short`);
  // Recovery runs behind the API: its operations show as `recovering`, conflicting requests get 75.
  const recovery = ops.recover();
  // After recovery began: a VM it holds is busy for the reaper, which tries again next round.
  leases.start();
  if (recovery.ids.length)
    void recovery.done.then(() =>
      log(
        "warning",
        `recovered ${recovery.ids.length} operation(s) left by a crash: ${recovery.ids.join(", ")}`,
      ),
    );
}

main(process.argv).catch((err: unknown) => {
  const e = asFarmError(err);
  process.stderr.write(`farmd: ${e.message}\n${e.hint ? `  ${e.hint}\n` : ""}`);
  process.exit(e.exitCode);
});

const withHint = (e: FarmError) => `${e.message}${e.hint ? ` (${e.hint})` : ""}`;

/** The directories whose files the families edit (each edit's candidate file lands beside its target). */
function editedDirs(config: Config): string[] {
  const { dns, dhcp, firewall, proxy } = config;
  return [
    dirname(dns.zone_file),
    dirname(dhcp.config),
    dirname(firewall.rules),
    dirname(firewall.params),
    proxy.sites_available,
    proxy.sites_enabled,
  ];
}
