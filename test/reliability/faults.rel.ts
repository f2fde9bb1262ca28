// Figure "fault matrix" (issue 8, point 3): each fault injected for real on the testbed, then a
// clone through farmctl. Each cell: the clone fails with a message naming the problem, the
// operation is rolled back (or refused before it became one), the host's fingerprint is as before,
// and farmd still answers /v1/health.
import { afterAll, describe, expect, it } from "vitest";
import { farmctl, farmdConfig, writeInside } from "../e2e/helpers.js";
import type { FarmdProcess } from "../testbed/testbed.js";
import { health, operations } from "./api.js";
import { differences, fingerprint, sharedTestbed } from "./shared.js";

const SMALL = ["--memory", "256M", "--balloon", "256M"];

interface Fault {
  /** The cell's title: the fault injected. */
  title: string;
  /** farmd.toml keys to set, by table; empty: the testbed's own farmd. */
  config?: Record<string, string>;
  /** Breaks the host before the clone; returns how to mend it. */
  inject?: (dir: string) => Promise<() => Promise<void>>;
  /** What farmctl must print on stderr (the problem and where to fix it). */
  message: RegExp;
  exitCodes: number[];
}

const tb = sharedTestbed();
const inside = (argv: string[]) => tb.run(argv, { timeoutMs: 120_000 });

const FAULTS: Fault[] = [
  {
    title: "the state directory on a full filesystem (SQLITE_FULL): state_full",
    config: {},
    async inject(dir) {
      // A 1 MiB tmpfs under the state dir, filled once farmd has its journal there.
      await inside(["mkdir", "-p", `${dir}/full`]);
      await inside(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", `${dir}/full`]);
      return async () => {
        await inside(["umount", `${dir}/full`]);
      };
    },
    message: /state directory .* is full/,
    exitCodes: [75],
  },
  {
    title: "a volume group without room for the copy",
    async inject() {
      // prettier-ignore
      await inside(["lvm", "lvcreate", "--activate", "n", "--zero", "n", "-l", "100%FREE", "-n", "fault-filler", "all"]);
      return async () => void (await inside(["lvm", "lvremove", "-f", "all/fault-filler"]));
    },
    message: /volume group 'all' has .* free.*\n?.*free space/s,
    exitCodes: [69],
  },
  {
    title: "a checker that refuses the new dhcpd.conf",
    config: { dhcp: 'check_wrap = ["false"]' },
    message: /dhcpd\.conf\S*: rejected by false dhcpd -t/,
    exitCodes: [1],
  },
  {
    title: "a service that does not reload (dhcp)",
    config: { dhcp: 'reload = ["false"]' },
    message: /reload command failed \(exit 1\): false/,
    exitCodes: [1],
  },
  {
    title: "a Ganeti job that fails ([ganeti] os does not exist)",
    config: { ganeti: 'os = "nosuchos+default"' },
    message: /step 'adopt'[\s\S]*nosuchos/,
    exitCodes: [1],
  },
  {
    title: "a missing monitor socket ([ganeti] monitor_dir empty)",
    config: { ganeti: 'monitor_dir = "/run/farmd/no-monitors"' },
    async inject() {
      await inside(["mkdir", "-p", "/run/farmd/no-monitors"]);
      return async () => void (await inside(["rmdir", "/run/farmd/no-monitors"]));
    },
    message: /no monitor socket[\s\S]*monitor_dir/,
    exitCodes: [1, 69],
  },
  {
    title: "DNS that does not resolve in time (named never reloads the zone)",
    config: { dns: 'reload = ["true"]\nresolve_timeout_ms = 3000' },
    message: /does not resolve to [\d.]+ after the DNS reload/,
    exitCodes: [1],
  },
];

/** The testbed's farmd.toml with a state dir and socket of its own and `keys` set in their tables. */
async function configFor(name: string, dir: string, keys: Record<string, string>): Promise<string> {
  const path = await farmdConfig(tb, name, { stateDir: dir, socket: `/run/farmd/${name}.sock` });
  let text = tb.readFile(path);
  for (const [table, lines] of Object.entries(keys)) {
    const header = `[${table}]\n`;
    const key = lines.split("=")[0]!.trim();
    // a key the table already has is replaced, others are added under the header
    text = text.includes(header)
      ? text
          .replace(new RegExp(`(\\[${table}\\]\\n(?:[^\\[].*\\n)*?)${key} = .*\\n`), "$1")
          .replace(header, `${header}${lines}\n`)
      : `${text}\n${header}${lines}\n`;
  }
  await writeInside(tb, path, text);
  return path;
}

describe("fault matrix", () => {
  const started: FarmdProcess[] = [];
  afterAll(async () => {
    for (const f of started) if (!f.exit) process.kill(f.pid, "SIGTERM");
    await Promise.all(started.map((f) => f.exited));
  });

  FAULTS.forEach((fault, i) => {
    it(
      fault.title,
      async () => {
        const name = `fault-${i + 1}`;
        const dir = `${tb.dir}/state-${name}`;
        const mends: (() => Promise<void>)[] = [];
        try {
          const mend = fault.inject ? await fault.inject(dir) : null;
          if (mend) mends.push(mend);
          const stateDir = fault.title.includes("state_full") ? `${dir}/full` : dir;
          const config = fault.config ? await configFor(name, stateDir, fault.config) : null;
          const socket = config ? `/run/farmd/${name}.sock` : undefined;
          let farmd: FarmdProcess | null = null;
          if (config) {
            farmd = await tb.spawnFarmd(config);
            started.push(farmd);
            mends.unshift(async () => {
              process.kill(farmd!.pid, "SIGTERM");
              await farmd!.exited;
            });
          }
          if (fault.title.includes("state_full")) {
            // fills what is left (dd stops at ENOSPC, hence exec, not run)
            await tb.exec(["dd", "if=/dev/zero", `of=${stateDir}/filler`, "bs=4k"]);
          }
          const before = await fingerprint(tb);
          const ops = await operations(tb, socket);
          // prettier-ignore
          const r = await farmctl(tb, [
          "clone", ...(config ? ["--config", config] : []), ...SMALL, "gallifrey", name,
        ], 600_000);
          const seen = `exit ${r.exitCode}:\n${r.stdout}${r.stderr}`;
          expect(fault.exitCodes, seen).toContain(r.exitCode);
          expect(r.stderr, seen).toMatch(fault.message);
          // the operation, if one was made, was rolled back (or refused at its preflight)
          if (!fault.title.includes("state_full")) {
            const mine = (await operations(tb, socket)).filter(
              (o) => !ops.some((p) => p.id === o.id),
            );
            for (const o of mine)
              expect(["rolled-back", "failed"], `${o.target} ${o.state}`).toContain(o.state);
          }
          expect(differences(before, await fingerprint(tb))).toEqual([]);
          if (farmd) expect(await health(tb, socket)).toMatchObject({ ok: true, pid: farmd.pid });
          expect((await health(tb)).ok).toBe(true);
        } finally {
          for (const mend of mends) await mend();
        }
      },
      900_000,
    );
  });
});
