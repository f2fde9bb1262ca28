// A build system's builder on demand, on the testbed's real Ganeti host (issue 11): through farmd's
// remote API (HTTPS with a client certificate of farmd's CA, role operator, with curl), clone
// gallifrey with a short lease, renew it, then let it run out: farmd destroys the VM by itself, as
// a journaled destroy of its own, no sooner than the renewed end, and the host is byte for byte as
// before (the zone's serial aside).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { unavailableReason, useTestbed, type FarmdProcess } from "../testbed/testbed.js";
import {
  TARGET,
  farmctl,
  farmdConfig,
  hostState,
  instances,
  retry,
  serialAside,
  E2E_TEST_MS,
} from "./helpers.js";

const skip = unavailableReason();
const SOCKET = "/run/farmd/lease.sock";
/** The TLS listener, inside the testbed's network namespace. */
const API = "https://127.0.0.1:8443";

interface Operation {
  id: string;
  kind: string;
  target: string;
  state: string;
  params: Record<string, unknown>;
  createdAt: string;
  owner: string | null;
}

describe.skipIf(skip !== null)(
  `leases on the testbed's real Ganeti host${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();
    let farmd: FarmdProcess | null = null;

    afterAll(async () => {
      if (farmd && !farmd.exit) {
        process.kill(farmd.pid, "SIGTERM");
        await farmd.exited;
      }
    });

    let tls: string[] = [];

    /** One request to farmd's remote API, as a build system on another machine sends it. */
    async function api<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      // prettier-ignore
      const out = await tb.run([
        "curl", "-sS", "--max-time", "30", ...tls, "-X", method,
        ...(body === undefined ? [] : ["-H", "content-type: application/json", "-d", JSON.stringify(body)]),
        `${API}${path}`,
      ]);
      const doc = JSON.parse(out) as T & { error?: unknown };
      if (doc.error) throw new Error(`${method} ${path}: ${JSON.stringify(doc.error)}`);
      return doc;
    }

    /** farmd with its CA and an operator's certificate, listening on API; its config's path. */
    async function remoteFarmd(): Promise<string> {
      const stateDir = `${tb.dir}/state-lease`;
      const config = await farmdConfig(tb, "lease", {
        stateDir,
        socket: SOCKET,
        extra: `[leases]\ncheck_interval = "1s"\n\n[api]\nlisten = "127.0.0.1:8443"\nnames = ["127.0.0.1"]`,
      });
      // The first start has no CA yet: it serves the socket alone, where root makes one.
      let f = (farmd = await tb.spawnFarmd(config));
      const certs = `${tb.dir}/certs-lease`;
      await tb.run(["mkdir", "-p", certs]);
      for (const args of [
        ["ca", "init"],
        // prettier-ignore
        ["ca", "issue", "ci-runner", "--role", "operator", "--sources", "gallifrey", "--max-vms", "2", "--out", certs],
      ]) {
        const r = await farmctl(tb, [...args, "--config", config]);
        expect(r.exitCode, `farmctl ${args.join(" ")}:\n${r.stdout}${r.stderr}`).toBe(0);
      }
      process.kill(f.pid, "SIGTERM");
      expect(await f.exited).toEqual({ exitCode: 0, signal: null });
      farmd = f = await tb.spawnFarmd(config);
      // prettier-ignore
      tls = ["--cert", `${certs}/ci-runner.pem`, "--key", `${certs}/ci-runner.key`, "--cacert", `${stateDir}/ca/ca.pem`];
      await retry("farmd's TLS listener to answer", E2E_TEST_MS, async () =>
        (await tb.exec(["curl", "-sf", "--max-time", "5", ...tls, `${API}/v1/health`])).exitCode ===
        0
          ? true
          : null,
      );
      return config;
    }

    const vm = async () =>
      (await api<{ vms: { name: string; expiresAt: string | null }[] }>("GET", "/v1/vms")).vms.find(
        (v) => v.name === "gallifrey-dev",
      );

    it(
      "clone --lease, renew, and farmd destroys the VM once its lease ran out; the host is as before",
      async () => {
        const before = serialAside(await hostState(tb));
        const config = await remoteFarmd();

        const t0 = Date.now();
        const { opId } = await api<{ opId: string }>("POST", "/v1/clone", {
          request: { source: "gallifrey", name: "gallifrey-dev", lease: "30s" },
        });
        const clone = await retry("the clone to end", E2E_TEST_MS, async () => {
          const { operation } = await api<{ operation: Operation }>(
            "GET",
            `/v1/operations/${opId}`,
          );
          return operation.state === "running" || operation.state === "queued" ? null : operation;
        });
        expect(clone.state).toBe("succeeded");
        expect(clone.owner).toBe("cert:ci-runner");
        console.log(`the clone took ${Date.now() - t0} ms`);
        const leased = await vm();
        expect(leased?.expiresAt).toBeTruthy();
        expect(Date.parse(leased!.expiresAt!)).toBeGreaterThan(
          Date.parse(clone.createdAt) + 30_000,
        );

        // The build runs longer than it thought: it renews before the lease ends.
        const renewed = await api<{ expiresAt: string; previousExpiresAt: string }>(
          "POST",
          "/v1/vms/gallifrey-dev/renew",
          { lease: "45s" },
        );
        expect(renewed.previousExpiresAt).toBe(leased!.expiresAt);
        expect((await vm())?.expiresAt).toBe(renewed.expiresAt);
        const shown = await farmctl(tb, ["list", "-o", "name,expires", "--config", config]);
        expect(shown.stdout).toMatch(
          /\ngallifrey-dev\s+\d+s left \(\d{4}-\d\d-\d\d [\d:]+ UTC\)\n/,
        );

        // Then it forgets the VM: farmd destroys it by itself.
        await retry(
          "farmd to destroy the VM whose lease ran out",
          E2E_TEST_MS,
          async () => ((await vm()) === undefined ? true : null),
          1000,
        );
        const { operations } = await api<{ operations: Operation[] }>("GET", "/v1/operations");
        const destroys = operations.filter((o) => o.kind === "destroy");
        expect(destroys).toHaveLength(1);
        const destroy = destroys[0]!;
        expect(destroy).toMatchObject({
          target: "gallifrey-dev",
          state: "succeeded",
          params: { name: "gallifrey-dev", expiredLease: true },
          owner: "farmd",
        });
        // Not before the renewed end: the renew counted.
        expect(Date.parse(destroy.createdAt)).toBeGreaterThanOrEqual(Date.parse(renewed.expiresAt));
        const log = readFileSync(join(tb.dir, "log", "farmd-lease.log"), "utf8");
        expect(log).toContain("leases: expired VMs are destroyed, checked every 1s");
        expect(log).toContain(
          `VM gallifrey-dev: its lease ran out at ${renewed.expiresAt}; destroying it (operation ${destroy.id})`,
        );

        expect((await instances(tb)).map((i) => i.name)).not.toContain(TARGET);
        expect(serialAside(await hostState(tb))).toEqual(before);

        process.kill(farmd!.pid, "SIGTERM");
        expect(await farmd!.exited).toEqual({ exitCode: 0, signal: null });
      },
      3 * E2E_TEST_MS,
    );
  },
);
