// farmd's API on a real unix socket over the simulated host01, for the API tests.
import { writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { join } from "node:path";
import { FarmdClient } from "../../src/client/http.js";
import { Operations, type OperationsOptions } from "../../src/daemon/operations.js";
import { socketIdentify } from "../../src/daemon/identify.js";
import type { Identify } from "../../src/daemon/route.js";
import { apiServer } from "../../src/daemon/server.js";
import { Ca } from "../../src/daemon/ca/ca.js";
import { ExecaRunner } from "../../src/host/runner.js";
import { LeaseReaper } from "../../src/daemon/leases.js";
import type { CloneDeps } from "../../src/ops/clone/steps.js";
import { simulatedDeps, type Harness } from "../ops/clone-harness.js";

export interface ServedFarmd {
  ops: Operations;
  /** farmd's CA in the state directory, with the real openssl. */
  ca: Ca;
  /** The lease reaper, when asked for (`leasesEveryMs`). */
  leases: LeaseReaper | null;
  client: FarmdClient;
  socket: string;
  logs: string[];
  close(): Promise<void>;
}

/**
 * `deps` replaces simulated adapters (a gated libguestfs, say); `extra`: options over the
 * simulated host's (a farm's SSH probe, ...).
 */
export async function serveFarmd(
  h: Harness,
  parallelCopies = 2,
  deps: Partial<CloneDeps> = {},
  extra: Partial<OperationsOptions> & { identify?: Identify; leasesEveryMs?: number } = {},
): Promise<ServedFarmd> {
  const {
    identify = socketIdentify({ roles: h.config.socket_roles }),
    leasesEveryMs,
    ...more
  } = extra;
  const logs: string[] = [];
  const log = (l: string, m: string) => void logs.push(`${l}: ${m}`);
  const ops = new Operations({
    config: h.config,
    db: h.db,
    stateDir: join(h.root, "state"),
    log,
    parallelCopies,
    runner: h.runner,
    resolve: h.resolve,
    deps: { ...simulatedDeps(h), ...deps },
    ...more,
  });
  const leases =
    leasesEveryMs === undefined ? null : new LeaseReaper({ ops, intervalMs: leasesEveryMs, log });
  const socket = join(h.root, "farmd.sock");
  const ca = new Ca({ db: h.db, stateDir: join(h.root, "state"), runner: new ExecaRunner() });
  const server: Server = apiServer(ops, identify, ca);
  await new Promise<void>((r) => server.listen(socket, r));
  leases?.start();
  return {
    ops,
    ca,
    leases,
    client: new FarmdClient(socket),
    socket,
    logs,
    close: () => {
      leases?.stop();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A farmd.toml for farmctl (the binary) that reaches this farmd's socket. */
export function clientConfig(h: Harness, farmd: ServedFarmd): string {
  const config = join(h.root, "client.toml");
  writeFileSync(config, `state_dir = "${h.root}/state"\nsocket = "${farmd.socket}"\n`);
  return config;
}
