// One phase of the copy benchmark, run inside host01.farm (the LVs are in its /dev/all): raw dd
// or farmd's Copier (dist) between two LVs, with ioping reading a neighbour LV meanwhile, or ioping
// alone (idle). Prints one JSON document: the copy's time and report, its events, the latencies.
import { execa } from "execa";
import { Copier } from "../../dist/host/copy.js";
import { ExecaRunner } from "../../dist/host/runner.js";
import { Throttler } from "../../dist/host/throttle/choose.js";

const spec = JSON.parse(process.argv[2]);

/** ioping's per-request lines: "4 KiB <<< /dev/all/x (block device 256 MiB): request=3 time=1.2 ms". */
function latenciesUs(stdout) {
  const unit = { ns: 1e-3, us: 1, ms: 1e3, s: 1e6 };
  const out = [];
  for (const line of stdout.split("\n")) {
    const m = /request=\d+ time=([0-9.]+) (ns|us|ms|s)\b/.exec(line);
    if (m && !line.includes("(warmup)")) out.push(Number(m[1]) * unit[m[2]]);
  }
  return out;
}

// 4 KiB direct reads of the neighbour's written region, every 10 ms, until stopped (SIGINT by PID)
const ioping = (count) =>
  execa(
    "ioping",
    [
      "-D",
      "-s",
      "4k",
      "-S",
      spec.ioping.workingSet,
      "-i",
      "10ms",
      ...(count ? ["-c", String(count)] : []),
      spec.ioping.device,
    ],
    { reject: false },
  );

async function copy() {
  if (spec.mode === "dd") {
    // the baseline: raw dd as an admin runs it
    await execa("dd", [`if=${spec.src}`, `of=${spec.dst}`, "bs=1M", "oflag=direct", "status=none"]);
    return { report: null, events: [] };
  }
  const events = [];
  const copier = new Copier(new ExecaRunner(), {
    blockSize: "1M",
    ioniceClass: 3,
    throttler: new Throttler(),
  });
  const report = await copier.copy(
    spec.src,
    spec.dst,
    spec.bytes,
    (e) => events.push(e),
    undefined,
    undefined,
    {
      bwlimit: spec.bwlimit ?? 0,
    },
  );
  return { report, events };
}

let result;
if (spec.mode === "idle") {
  const r = await ioping(spec.idleRequests);
  result = { latenciesUs: latenciesUs(r.stdout) };
} else {
  const probe = spec.ioping ? ioping(0) : null;
  const t0 = process.hrtime.bigint();
  const { report, events } = await copy();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  probe?.kill("SIGINT");
  const r = probe ? await probe : null;
  result = {
    ms,
    report,
    progressEvents: events.filter((e) => e.type === "copy-progress").length,
    throttleEvents: events.filter((e) => e.type === "copy-throttle"),
    latenciesUs: r ? latenciesUs(r.stdout) : [],
  };
}
process.stdout.write(JSON.stringify(result) + "\n");
