// dd copy: argv, and the progress parser fed coreutils 9.1 stderr recorded on loop devices.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import type { OpEvent } from "../../src/api/events.js";
import {
  Copier,
  DdProgressParser,
  copy,
  copyArgv,
  etaMs,
  parseDdStats,
  type DdProgress,
} from "../../src/host/copy.js";
import { DryRunRunner, type RunOptions } from "../../src/host/runner.js";
import { Throttler } from "../../src/host/throttle/choose.js";
import type { ThrottleMechanism } from "../../src/host/throttle/types.js";
import { attachOwnLoop, type OwnLoop } from "../fakes/own-loop.js";
import { ScriptedRunner, recording } from "../fakes/scripted-runner.js";

const PROGRESS = recording("dd-9.1-progress-stderr.txt");
const TOTAL = 6442450944; // 6 GiB copied in the recording
const SRC = "/dev/all/farm-snap-1";
const DST = "/dev/all/gallifrey-dev";
const ARGV = [
  "ionice",
  "-c3",
  "dd",
  `if=${SRC}`,
  `of=${DST}`,
  "bs=1M",
  "oflag=direct",
  "conv=fsync",
  "status=progress",
];

function parseAll(chunks: string[]): { events: DdProgress[]; parser: DdProgressParser } {
  const events: DdProgress[] = [];
  const parser = new DdProgressParser((p) => events.push(p));
  for (const c of chunks) parser.push(c);
  parser.end();
  return { events, parser };
}

/** Splits text into chunks of pseudo-random sizes (deterministic). */
function chunked(text: string, seed: number): string[] {
  const out: string[] = [];
  let i = 0;
  let x = seed;
  while (i < text.length) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const n = 1 + (x % 97);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

// Feeds stderr to onStderr in the given chunks, as execa does.
const feeding =
  (chunks: string[]) =>
  (_argv: readonly string[], opts: RunOptions): void => {
    expect(opts.readOnly ?? false).toBe(false);
    for (const c of chunks) opts.onStderr?.(c);
  };

describe("copyArgv", () => {
  it("is the design's command", () => {
    expect(copyArgv({ src: SRC, dst: DST, blockSize: "1M", ioniceClass: 3 })).toEqual(ARGV);
    expect(copyArgv({ src: SRC, dst: DST })).toEqual(ARGV);
    expect(copyArgv({ src: SRC, dst: DST, blockSize: "4m", ioniceClass: 2 })).toContain("bs=4M");
    // a thin target: zero blocks are seeked over, and the flush still comes last
    expect(copyArgv({ src: SRC, dst: DST, sparse: true })).toContain("conv=sparse,fsync");
  });

  it("refuses what dd would misread", () => {
    expect(() => copyArgv({ src: "all/x", dst: DST })).toThrow(/absolute/);
    expect(() => copyArgv({ src: SRC, dst: DST, blockSize: "1M count=1" })).toThrow(/block size/);
    expect(() => copyArgv({ src: SRC, dst: DST, ioniceClass: 4 })).toThrow(/ionice/);
  });
});

describe("DdProgressParser", () => {
  it("reads every progress line and the final report", () => {
    const { events, parser } = parseAll([PROGRESS]);
    expect(events).toHaveLength(45); // 44 "\r" progress lines + the final report
    expect(events[0]).toEqual({ bytes: 144703488, elapsedMs: 1000, rateBytesPerSec: 144e6 });
    expect(events[43]).toEqual({ bytes: 6287261696, elapsedMs: 44000, rateBytesPerSec: 143e6 });
    expect(parser.summary).toEqual({
      bytes: TOTAL,
      elapsedMs: 44889,
      rateBytesPerSec: 144e6,
      recordsIn: "6144+0",
      recordsOut: "6144+0",
    });
    expect(parser.errors).toEqual([]);
    expect(events.every((e, i) => i === 0 || e.bytes >= events[i - 1]!.bytes)).toBe(true);
  });

  it("gives the same events whatever the chunk boundaries", () => {
    const whole = parseAll([PROGRESS]);
    for (const size of [1, 2, 3, 7, 64]) {
      const chunks = PROGRESS.match(new RegExp(`[\\s\\S]{1,${size}}`, "g")) ?? [];
      const got = parseAll(chunks);
      expect(got.events).toEqual(whole.events);
      expect(got.parser.summary).toEqual(whole.parser.summary);
    }
    for (const seed of [1, 42, 4242])
      expect(parseAll(chunked(PROGRESS, seed)).events).toEqual(whole.events);
    // a chunk ending between "\r" and the next line, or between "\n"s
    const cut = PROGRESS.indexOf("\r", 10) + 1;
    expect(parseAll([PROGRESS.slice(0, cut), PROGRESS.slice(cut)]).events).toEqual(whole.events);
  });

  it("reads a copy too short for progress lines", () => {
    const { events, parser } = parseAll([recording("dd-9.1-short-stderr.txt")]);
    expect(events).toHaveLength(1);
    expect(parser.summary).toMatchObject({
      bytes: 64 * 2 ** 20,
      elapsedMs: 32,
      rateBytesPerSec: 2.1e9,
    });
  });

  it("keeps dd's errors apart from its statistics", () => {
    const { parser } = parseAll([recording("dd-9.1-nospace-stderr.txt")]);
    expect(parser.errors).toEqual(["dd: error writing '/dev/loop3': No space left on device"]);
    expect(parser.summary).toMatchObject({
      bytes: 33554432,
      recordsIn: "33+0",
      recordsOut: "32+0",
    });
    const noinput = parseAll([recording("dd-9.1-noinput-stderr.txt")]);
    expect(noinput.parser.errors).toEqual([
      "dd: failed to open '/dev/all/nosuch': No such file or directory",
    ]);
    expect(noinput.parser.summary).toBeNull();
  });

  it("reads every shape of coreutils' print_xfer_stats (hand-written from dd.c)", () => {
    expect(parseDdStats("512 bytes copied, 0.5 s, 1.0 kB/s")).toEqual({
      bytes: 512,
      elapsedMs: 500,
      rateBytesPerSec: 1000,
    });
    expect(parseDdStats("1 byte copied, 1 s, 1 B/s")?.bytes).toBe(1);
    expect(parseDdStats("1000 bytes (1.0 kB) copied, 2 s, 500 B/s")?.rateBytesPerSec).toBe(500);
    expect(parseDdStats("4096 bytes (4.1 kB, 4.0 KiB) copied, 0 s, Infinity B/s")).toEqual({
      bytes: 4096,
      elapsedMs: 0,
      rateBytesPerSec: 0,
    });
    expect(
      parseDdStats("2000000 bytes (2.0 MB, 1.9 MiB) copied, 1.2e+06 s, 1 B/s")?.elapsedMs,
    ).toBe(1.2e9);
    expect(parseDdStats("6144+0 records in")).toBeNull();
  });
});

describe("copy", () => {
  it("runs dd and reports progress with the total", async () => {
    const r = new ScriptedRunner([{ argv: ARGV, effect: feeding(chunked(PROGRESS, 7)) }]);
    const seen: number[] = [];
    const s = await copy(r, { src: SRC, dst: DST }, TOTAL, (p) => {
      expect(p.totalBytes).toBe(TOTAL);
      seen.push(p.bytes);
    });
    expect(s?.bytes).toBe(TOTAL);
    expect(seen).toHaveLength(45);
    r.assertDone();
  });

  it("fails with dd's own message, not the progress lines", async () => {
    const r = new ScriptedRunner([
      { argv: ARGV, exitCode: 1, effect: feeding([recording("dd-9.1-nospace-stderr.txt")]) },
    ]);
    const err = await copy(r, { src: SRC, dst: DST }, 64 * 2 ** 20).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FarmError);
    const f = err as FarmError;
    expect([f.code, f.hint?.split("\n")[0]]).toEqual([
      "command_failed",
      "dd: error writing '/dev/loop3': No space left on device",
    ]);
  });

  it("fails when dd copied fewer bytes than the disk holds", async () => {
    const r = new ScriptedRunner([
      { argv: ARGV, effect: feeding([recording("dd-9.1-short-stderr.txt")]) },
    ]);
    await expect(copy(r, { src: SRC, dst: DST }, TOTAL)).rejects.toThrow(
      `dd copied 67108864 bytes from ${SRC}, expected ${TOTAL}`,
    );
  });

  it("returns null in a dry run, where dd does not run", async () => {
    const reported: string[][] = [];
    const r = new DryRunRunner(new ScriptedRunner(), (argv) => reported.push([...argv]));
    expect(await copy(r, { src: SRC, dst: DST }, TOTAL)).toBeNull();
    expect(reported).toEqual([ARGV]);
  });
});

describe("Copier", () => {
  it("emits copy-progress events with an ETA", async () => {
    const r = new ScriptedRunner([{ argv: ARGV, effect: feeding([PROGRESS]) }]);
    const events: OpEvent[] = [];
    await new Copier(r, { blockSize: "1M", ioniceClass: 3 }).copy(SRC, DST, TOTAL, (e) =>
      events.push(e),
    );
    expect(events[0]).toEqual({
      type: "copy-progress",
      bytes: 144703488,
      total: TOTAL,
      rateBytesPerSec: 144e6,
      etaMs: Math.round(((TOTAL - 144703488) / 144e6) * 1000),
    });
    expect(events.at(-1)).toMatchObject({ bytes: TOTAL, etaMs: 0 });
    expect(etaMs(0, 100, 0)).toBeNull();
  });
});

describe("Copier with a write limit", () => {
  // the throttle stats the target's MAJ:MIN: a real block device, this file's own
  let loop: OwnLoop | undefined;
  beforeAll(async () => void (loop = await attachOwnLoop()));
  afterAll(async () => loop?.release());
  const dev = () => loop!.dev;
  const argv = () => ARGV.map((a) => (a === `of=${DST}` ? `of=${dev()}` : a));
  /** A mechanism that records what the Copier asks of its session. */
  const recorder = () => {
    const seen: string[] = [];
    const mechanism: ThrottleMechanism = {
      name: "cgroup-v2",
      start: async (t) => ({
        info: {
          limitBytesPerSec: t.limitBytesPerSec,
          mechanism: "cgroup-v2",
          detail: "io.max",
          unthrottledBytes: 0,
        },
        around: (spawn) => (seen.push("enter"), spawn()),
        attach: (pid) => void seen.push(`attach ${pid}`),
        ready: async () => void seen.push("ready"),
        release: async () => void seen.push("release"),
      }),
    };
    return { seen, throttler: new Throttler(() => mechanism) };
  };
  // the runner's part: the fork inside aroundSpawn, then onSpawn with the PID
  const spawning =
    (seen: string[]) =>
    (_argv: readonly string[], opts: RunOptions): void => {
      opts.aroundSpawn!(() => seen.push("fork"));
      opts.onSpawn?.(4242);
      feeding([PROGRESS])(_argv, opts);
    };

  it("forks dd inside the throttle, says so in an event and the report, releases it", async () => {
    const { seen, throttler } = recorder();
    const r = new ScriptedRunner([{ argv: argv(), effect: spawning(seen) }]);
    const events: OpEvent[] = [];
    const report = await new Copier(r, { bwlimit: 2 ** 20, throttler }).copy(
      SRC,
      dev(),
      TOTAL,
      (e) => events.push(e),
    );
    expect(seen).toEqual(["enter", "fork", "attach 4242", "ready", "release"]);
    const throttle = {
      limitBytesPerSec: 2 ** 20,
      mechanism: "cgroup-v2",
      detail: "io.max",
      unthrottledBytes: 0,
    };
    expect(events.filter((e) => e.type === "copy-throttle")).toEqual([
      { type: "copy-throttle", ...throttle },
    ]);
    expect(report).toEqual({ bytes: TOTAL, ms: 44_889, rateBytesPerSec: 144e6, throttle });
  });

  it("releases the throttle when dd fails; --bwlimit 0 means none", async () => {
    const { seen, throttler } = recorder();
    const r = new ScriptedRunner([{ argv: argv(), effect: spawning(seen), exitCode: 1 }]);
    await expect(
      new Copier(r, { bwlimit: 2 ** 20, throttler }).copy(SRC, dev(), TOTAL, () => {}),
    ).rejects.toThrow(FarmError);
    expect(seen.at(-1)).toBe("release");
    const none = recorder();
    const r2 = new ScriptedRunner([{ argv: argv(), effect: feeding([PROGRESS]) }]);
    const report = await new Copier(r2, { bwlimit: 2 ** 20, throttler: none.throttler }).copy(
      SRC,
      dev(),
      TOTAL,
      () => {},
      undefined,
      undefined,
      { bwlimit: 0 },
    );
    expect(none.seen).toEqual([]);
    expect(report!.throttle).toBeNull();
  });

  it("in a dry run, says which mechanism would limit the copy and makes nothing", async () => {
    const { seen, throttler } = recorder();
    const events: OpEvent[] = [];
    const dry = new DryRunRunner(new ScriptedRunner([]));
    const report = await new Copier(dry, { bwlimit: 100 * 2 ** 20, throttler, dryRun: true }).copy(
      SRC,
      DST,
      TOTAL,
      (e) => events.push(e),
    );
    expect(report).toBeNull();
    expect(events).toEqual([
      {
        type: "info",
        message: `the copy would be limited to ${100 * 2 ** 20} bytes/s by cgroup-v2`,
      },
    ]);
    expect(seen).toEqual([]);
  });
});
