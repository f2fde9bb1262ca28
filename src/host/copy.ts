// Block copy with dd at idle I/O priority, and a parser of its status=progress stderr.
import { BadInput, CommandFailed, OperationFailed } from "../api/errors.js";
import type { CopyReport } from "../api/clone.js";
import type { EventSink } from "../api/events.js";
import type { Runner } from "./runner.js";
import type { Throttler } from "./throttle/choose.js";

export interface CopyParams {
  src: string;
  dst: string;
  /** dd's bs=, e.g. "1M". */
  blockSize?: string;
  /** ionice -c class: 3 = idle, so running VMs keep their disk bandwidth. */
  ioniceClass?: number;
  /** conv=sparse: seek over all-zero blocks instead of writing them (a new thin LV reads as zeros). */
  sparse?: boolean;
  signal?: AbortSignal;
  onSpawn?: (pid: number) => void;
  /** The runner's aroundSpawn: the throttle's cgroup for the fork. */
  aroundSpawn?: <T>(spawn: () => T) => T;
}

export interface DdProgress {
  /** Bytes written so far. */
  bytes: number;
  elapsedMs: number;
  rateBytesPerSec: number;
}

export interface DdSummary extends DdProgress {
  recordsIn: string;
  recordsOut: string;
}

export interface CopyProgress extends DdProgress {
  totalBytes: number;
}

const PATH = /^\/[^\0]*$/;
const BLOCK = /^[1-9][0-9]*[KMGT]?$/;

export function copyArgv(p: CopyParams): string[] {
  const bs = (p.blockSize ?? "1M").toUpperCase(); // dd takes 1M but not 1m
  const cls = p.ioniceClass ?? 3;
  if (!PATH.test(p.src) || !PATH.test(p.dst)) {
    throw new BadInput(`copy needs absolute device paths, got '${p.src}' and '${p.dst}'`);
  }
  if (!BLOCK.test(bs)) throw new BadInput(`invalid block size '${bs}'`);
  if (![1, 2, 3].includes(cls)) throw new BadInput(`invalid ionice class ${cls}`);
  return [
    "ionice",
    `-c${cls}`,
    "dd",
    `if=${p.src}`,
    `of=${p.dst}`,
    `bs=${bs}`,
    "oflag=direct", // bypass the page cache: a disk-sized copy would evict everything else
    // flush the device's cache before dd reports success: "succeeded" means on disk
    p.sparse ? "conv=sparse,fsync" : "conv=fsync",
    "status=progress",
  ];
}

// dd's human_readable() SI units (base 1000) for the rate
const SI: Record<string, number> = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
// coreutils print_xfer_stats: "N byte(s) [(SI[, IEC])] copied, T s, R/s" (T is %g: may be 1e+06)
const STATS =
  /^(\d+) bytes? (?:\([^)]*\) )?copied, ([0-9.]+(?:e[+-]?\d+)?) s, (?:(Infinity) B|([0-9.]+) ([kMGTPE]?)B)\/s$/;
const RECORDS = /^(\d+\+\d+) records (in|out)$/;

/** Parses one dd statistics line; null if it is something else. */
export function parseDdStats(line: string): DdProgress | null {
  const m = STATS.exec(line.trim());
  if (!m) return null;
  const bytes = Number(m[1]);
  const elapsedMs = Math.round(Number(m[2]) * 1000);
  let rate = m[3] ? NaN : Number(m[4]) * (SI[m[5] ?? ""] ?? 1);
  // "Infinity B/s" when no time elapsed: derive what we can
  if (!Number.isFinite(rate)) rate = elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
  return { bytes, elapsedMs, rateBytesPerSec: rate };
}

/**
 * Streaming parser of dd's stderr: progress lines end with "\r", the final report with "\n";
 * chunks may split a line anywhere.
 */
export class DdProgressParser {
  /** The final "N bytes ... copied" line, once dd printed it. */
  summary: DdSummary | null = null;
  /** dd's own error lines ("dd: error writing ..."). */
  readonly errors: string[] = [];
  last: DdProgress | null = null;
  private buf = "";
  private recordsIn: string | null = null;
  private recordsOut: string | null = null;

  constructor(private readonly onProgress: (p: DdProgress) => void = () => {}) {}

  push(chunk: string): void {
    this.buf += chunk;
    let i: number;
    while ((i = this.buf.search(/[\r\n]/)) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      this.line(line);
    }
  }

  /** Call when dd has exited: a last line may lack its terminator. */
  end(): void {
    const rest = this.buf;
    this.buf = "";
    if (rest) this.line(rest);
  }

  private line(raw: string): void {
    const line = raw.trimEnd(); // dd pads a shorter progress line with spaces
    if (line === "") return;
    const rec = RECORDS.exec(line);
    if (rec) {
      if (rec[2] === "in") this.recordsIn = rec[1]!;
      else this.recordsOut = rec[1]!;
      return;
    }
    const stats = parseDdStats(line);
    if (stats) {
      // the line after "records out" is the final report, the others are progress
      if (this.recordsOut !== null && this.recordsIn !== null) {
        this.summary = { ...stats, recordsIn: this.recordsIn, recordsOut: this.recordsOut };
      }
      this.last = stats;
      this.onProgress(stats);
      return;
    }
    this.errors.push(line);
  }
}

/**
 * Copies src to dst, reporting progress; fails unless dd wrote exactly totalBytes.
 * Returns dd's final report, or null if the runner did not run dd (dry run: no stderr at all).
 */
export async function copy(
  runner: Runner,
  params: CopyParams,
  totalBytes: number,
  onProgress: (p: CopyProgress) => void = () => {},
): Promise<DdSummary | null> {
  const argv = copyArgv(params);
  const parser = new DdProgressParser((p) => onProgress({ ...p, totalBytes }));
  const r = await runner.run(argv, {
    allowFailure: true,
    onStderr: (chunk) => parser.push(chunk),
    signal: params.signal,
    onSpawn: params.onSpawn,
    aroundSpawn: params.aroundSpawn,
  });
  parser.end();
  // progress \r lines would swamp an error hint: keep dd's messages and its final report
  const clean = [...parser.errors, ...(parser.summary ? [summaryText(parser.summary)] : [])];
  if (r.exitCode !== 0) throw new CommandFailed(argv, r.exitCode, clean.join("\n"), r.stdout);
  const s = parser.summary;
  // a real dd always reports on stderr; a dry-run runner returns nothing
  if (!s && r.stderr === "" && parser.last === null) return null;
  if (!s) throw new OperationFailed(`dd reported no final statistics: ${argv.join(" ")}`);
  if (s.bytes !== totalBytes) {
    throw new OperationFailed(
      `dd copied ${s.bytes} bytes from ${params.src}, expected ${totalBytes}`,
      "the source and target volumes must have the same size",
      { argv, bytes: s.bytes, totalBytes },
    );
  }
  return s;
}

function summaryText(s: DdSummary): string {
  return `${s.recordsIn} records in, ${s.recordsOut} records out, ${s.bytes} bytes copied`;
}

export interface CopierOptions {
  blockSize?: string;
  ioniceClass?: number;
  /** [copy] bwlimit in bytes/s; 0 or absent: no limit. */
  bwlimit?: number;
  /** Enforces a limit; absent in a dry run, which only says which mechanism would. */
  throttler?: Throttler;
  dryRun?: boolean;
}

/** The CopyPort of ops: copy() with farmd.toml's settings, progress as copy-progress events. */
export class Copier {
  constructor(
    private readonly runner: Runner,
    private readonly opts: CopierOptions = {},
  ) {}

  async copy(
    src: string,
    dst: string,
    totalBytes: number,
    events: EventSink,
    signal?: AbortSignal,
    onSpawn?: (pid: number) => void,
    options: { sparse?: boolean; bwlimit?: number } = {},
  ): Promise<CopyReport | null> {
    const { blockSize, ioniceClass, throttler } = this.opts;
    const limit = options.bwlimit ?? this.opts.bwlimit ?? 0;
    if (limit > 0 && this.opts.dryRun) {
      const how = throttler ? throttler.mechanism.name : "nothing (no throttler)";
      events({ type: "info", message: `the copy would be limited to ${limit} bytes/s by ${how}` });
    }
    const session =
      limit > 0 && throttler && !this.opts.dryRun
        ? await throttler.start(dst, limit, signal)
        : null;
    let held: Promise<void> = Promise.resolve();
    const params: CopyParams = {
      src,
      dst,
      blockSize,
      ioniceClass,
      sparse: options.sparse,
      signal,
      aroundSpawn: session?.around ? (spawn) => session.around!(spawn) : undefined,
      onSpawn: (pid) => {
        // first, in the fork's event-loop turn: the throttle holds dd before it writes much
        session?.attach(pid);
        onSpawn?.(pid);
        if (session)
          held = session.ready().then(() => events({ type: "copy-throttle", ...session.info }));
      },
    };
    try {
      const s = await copy(this.runner, params, totalBytes, (p) =>
        events({
          type: "copy-progress",
          bytes: p.bytes,
          total: totalBytes,
          rateBytesPerSec: p.rateBytesPerSec,
          etaMs: etaMs(p.bytes, totalBytes, p.rateBytesPerSec),
        }),
      );
      await held;
      if (!s) return null;
      return {
        bytes: s.bytes,
        ms: s.elapsedMs,
        rateBytesPerSec: s.rateBytesPerSec,
        throttle: session?.info ?? null,
      };
    } finally {
      await held.catch(() => {});
      await session?.release();
    }
  }
}

export function etaMs(bytes: number, total: number, rate: number): number | null {
  if (rate <= 0) return null;
  return Math.max(0, Math.round(((total - bytes) / rate) * 1000));
}
