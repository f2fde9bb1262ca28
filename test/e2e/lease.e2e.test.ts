// A build system's builder on demand, on the testbed's real Ganeti host (issue 11): through farmd's
// API (plain HTTP on its unix socket, with curl), clone gallifrey with a short lease, renew it,
// then let it run out: farmd destroys the VM by itself, as a journaled destroy of its own, no
// sooner than the renewed end, and the host is byte for byte as before (the zone's serial aside).
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

interface Operation {
  id: string;
  kind: string;
  target: string;
  state: string;
  params: Record<string, unknown>;
  createdAt: string;
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

    /** One request to farmd's API over its socket, as any HTTP client would send it. */
    async function api<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
      // prettier-ignore
      const out = await tb.run([
        "curl", "-sS", "--max-time", "30", "--unix-socket", SOCKET, "-X", method,
        ...(body === undefined ? [] : ["-H", "content-type: application/json", "-d", JSON.stringify(body)]),
        `http://farmd${path}`,
      ]);
      const doc = JSON.parse(out) as T & { error?: unknown };
      if (doc.error) throw new Error(`${method} ${path}: ${JSON.stringify(doc.error)}`);
      return doc;
    }

    const vm = async () =>
      (await api<{ vms: { name: string; expiresAt: string | null }[] }>("GET", "/v1/vms")).vms.find(
        (v) => v.name === "gallifrey-dev",
      );

    it(
      "clone --lease, renew, and farmd destroys the VM once its lease ran out; the host is as before",
      async () => {
        const before = serialAside(await hostState(tb));
        const config = await farmdConfig(tb, "lease", {
          stateDir: `${tb.dir}/state-lease`,
          socket: SOCKET,
          extra: '[leases]\ncheck_interval = "1s"',
        });
        farmd = await tb.spawnFarmd(config);

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

        process.kill(farmd.pid, "SIGTERM");
        expect(await farmd.exited).toEqual({ exitCode: 0, signal: null });
      },
      3 * E2E_TEST_MS,
    );
  },
);
