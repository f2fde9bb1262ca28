// Figures (issue 12, items 3 and 4): farmd's copy against raw `dd bs=1M oflag=direct` of the same
// 1 GiB between the same two LVs of the testbed's VG (A-B-B-A); a limited copy against its limit
// (a quarter of the unlimited rate, at most 100 MiB/s: a limit the disk reaches, and one that
// leaves the neighbour room); and a neighbour's read latency (ioping, 4 KiB direct reads of another LV of
// the VG every 10 ms) idle, during an unlimited copy and during the limited one. Each phase runs
// inside host01.farm (test/bench/copy-phase.mjs, with dist's Copier); the LVs it makes are
// removed by UUID and the host checked back as it was.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { CopyReport } from "../../src/api/clone.js";
import { hostState, serialAside } from "../e2e/helpers.js";
import { sharedTestbed } from "../reliability/shared.js";
import { recordFigure } from "./figure.js";

const VG = "all";
const GiB = 2 ** 30;
const MiB = 2 ** 20;
/** [copy] bwlimit = "100M" at most: a limit above what the disk does measures the disk, not the throttle. */
const LIMIT_MAX = 100 * MiB;
const PHASE = fileURLToPath(new URL("./copy-phase.mjs", import.meta.url));
const LVS = { src: "bench-copy-src", dst: "bench-copy-dst", nbr: "bench-copy-nbr" };
const dev = (lv: string) => `/dev/${VG}/${lv}`;
const NEIGHBOUR = { device: dev(LVS.nbr), workingSet: "256M" };

interface Phase {
  ms: number;
  report: CopyReport | null;
  progressEvents: number;
  throttleEvents: unknown[];
  latenciesUs: number[];
}

/** The q-quantile (nearest rank) of latencies, in µs. */
function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil(q * s.length) - 1)] ?? NaN;
}

describe("copy benchmark", () => {
  const tb = sharedTestbed();

  const phase = async (spec: Record<string, unknown>): Promise<Phase> => {
    const out = await tb.run(
      [
        "node",
        PHASE,
        JSON.stringify({ src: dev(LVS.src), dst: dev(LVS.dst), bytes: GiB, ...spec }),
      ],
      {
        timeoutMs: 600_000,
      },
    );
    return JSON.parse(out) as Phase;
  };
  const uuidOf = async (lv: string) =>
    (await tb.run(["lvs", "--noheadings", "-o", "lv_uuid", `${VG}/${lv}`])).trim();

  /** Makes the three LVs, fills the source and the neighbour's working set, runs `body`, removes them. */
  const withLvs = async (body: () => Promise<void>) => {
    const made = new Map<string, string>();
    try {
      for (const [lv, size] of [
        [LVS.src, "1G"],
        [LVS.dst, "1G"],
        [LVS.nbr, "256M"],
      ] as const) {
        await tb.run(["lvcreate", "-y", "-n", lv, "-L", size, VG]);
        made.set(lv, await uuidOf(lv));
      }
      // real data: a loop device over a sparse file reads holes as zeros without touching the disk
      for (const [lv, mib] of [
        [LVS.src, 1024],
        [LVS.nbr, 256],
      ] as const)
        await tb.run(
          [
            "dd",
            "if=/dev/urandom",
            `of=${dev(lv)}`,
            "bs=1M",
            `count=${mib}`,
            "oflag=direct",
            "status=none",
          ],
          {
            timeoutMs: 300_000,
          },
        );
      await body();
    } finally {
      // only what this test made, each checked by its UUID
      for (const [lv, uuid] of made)
        if ((await uuidOf(lv).catch(() => "")) === uuid)
          await tb.run(["lvremove", "-y", `${VG}/${lv}`]);
    }
  };

  it("copy speed, throttle and neighbour latency", async (ctx) => {
    const before = serialAside(await hostState(tb));
    await withLvs(async () => {
      // untimed: the first write of an LV allocates the testbed's sparse pv.img under it
      await phase({ mode: "dd" });
      // item 3: raw dd against farmd's Copier (ionice -c3, conv=fsync, status=progress), A-B-B-A-A-B
      const runs: Record<"dd" | "farmctl", Phase[]> = { dd: [], farmctl: [] };
      for (const mode of ["dd", "farmctl", "farmctl", "dd", "dd", "farmctl"] as const)
        runs[mode].push(await phase({ mode }));
      for (const f of runs.farmctl) {
        expect(f.report!.bytes).toBe(GiB);
        expect(f.progressEvents).toBeGreaterThan(0);
      }
      const list = (ps: Phase[]) =>
        ps
          .map((p) => `${p.ms.toFixed(0)} ms (${(GiB / 1e6 / (p.ms / 1000)).toFixed(0)} MB/s)`)
          .join(", ");
      const best = (ps: Phase[]) => Math.min(...ps.map((p) => p.ms));
      const sum = (ps: Phase[]) => ps.reduce((a, p) => a + p.ms, 0);
      recordFigure(ctx, {
        name: "copy / dd oflag=direct",
        // the best of 3 each: the other tenants of a shared machine only ever add time
        value: best(runs.dd) / best(runs.farmctl),
        target: 0.95,
        goal: "min",
        detail:
          `speed ratio over 1 GiB, best of 3 each (A-B-B-A-A-B); dd ${list(runs.dd)}; farmd ${list(runs.farmctl)}; ` +
          `ratio of the sums ${(sum(runs.dd) / sum(runs.farmctl)).toFixed(2)}; ` +
          `progress events ${runs.farmctl.map((p) => p.progressEvents).join(", ")}`,
      });

      // item 4: the neighbour idle (before and after), during an unlimited copy, during a limited one
      const idleBefore = await phase({ mode: "idle", ioping: NEIGHBOUR, idleRequests: 300 });
      const free = await phase({ mode: "farmctl", ioping: NEIGHBOUR });
      const freeRate = GiB / (free.report!.ms / 1000);
      const limit = Math.max(8 * MiB, Math.min(LIMIT_MAX, Math.floor(freeRate / 4 / MiB) * MiB));
      const held = await phase({ mode: "farmctl", ioping: NEIGHBOUR, bwlimit: limit });
      const idleAfter = await phase({ mode: "idle", ioping: NEIGHBOUR, idleRequests: 300 });
      const idle = { latenciesUs: [...idleBefore.latenciesUs, ...idleAfter.latenciesUs] } as Phase;
      const t = held.report!.throttle!;
      expect(held.throttleEvents).toHaveLength(1);
      const rate = held.report!.bytes / (held.report!.ms / 1000);
      recordFigure(ctx, {
        name: "throttle error |rate / limit - 1|",
        value: Math.abs(rate / limit - 1),
        target: 0.1,
        goal: "max",
        detail:
          `limit ${limit / MiB} MiB/s (a quarter of the unlimited rate, at most 100) by ${t.mechanism} (${t.detail}): ` +
          `${(rate / MiB).toFixed(1)} MiB/s achieved, ratio ${(rate / limit).toFixed(3)}, ` +
          `${t.unthrottledBytes} bytes before it held; unlimited: ${(freeRate / MiB).toFixed(0)} MiB/s`,
      });
      const q = (p: Phase, x: number) => quantile(p.latenciesUs, x);
      const row = (name: string, p: Phase) =>
        `${name} p50 ${q(p, 0.5).toFixed(0)} µs (${(q(p, 0.5) / q(idle, 0.5)).toFixed(1)}x idle), ` +
        `p99 ${q(p, 0.99).toFixed(0)} µs (${(q(p, 0.99) / q(idle, 0.99)).toFixed(1)}x idle), n=${p.latenciesUs.length}`;
      const detail = [
        row("idle (before and after)", idle),
        row("unlimited copy", free),
        row("limited copy", held),
      ].join("; ");
      // The limit must help the neighbour: its median read during a limited copy, against an unlimited one.
      recordFigure(ctx, {
        name: "neighbour read p50: limited copy / unlimited copy",
        value: q(held, 0.5) / q(free, 0.5),
        target: 1.0,
        goal: "max",
        detail,
      });
      // Against idle, as the issue asks: reported. A p99 of a one-minute ioping sample on a shared
      // virtio disk is the other tenants' as much as ours (limited/unlimited went 1.06 to 3.13).
      for (const [name, phase] of [
        ["unlimited", free],
        ["limited", held],
      ] as const)
        for (const x of [0.5, 0.99])
          recordFigure(ctx, {
            name: `neighbour read p${x * 100} during a ${name} copy / idle`,
            value: q(phase, x) / q(idle, x),
            target: 0,
            goal: "report",
            detail: `${q(phase, x).toFixed(0)} µs against ${q(idle, x).toFixed(0)} µs idle`,
          });
    });
    expect(serialAside(await hostState(tb))).toEqual(before);
  });
});
