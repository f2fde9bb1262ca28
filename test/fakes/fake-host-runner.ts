// A Runner that simulates the LVM and Ganeti state of host01.farm for saga tests, answering in the
// formats captured from the real tools (test/recordings). Any command it does not know fails the test.
import { randomUUID } from "node:crypto";
import { CommandFailed } from "../../src/api/errors.js";
import type { RunOptions, RunResult, Runner } from "../../src/host/runner.js";
import { lvsJson, vgsJson } from "./fake-lvm-report.js";
import { recording } from "./scripted-runner.js";

export interface FakeLv {
  name: string;
  uuid: string;
  sizeBytes: number;
  origin: string;
  tags?: string[];
  /** Thin provisioning: "thin" (in `pool`) or "thin-pool"; absent, a linear LV. */
  segtype?: "thin" | "thin-pool";
  pool?: string;
  /** A pool's use as lvs prints it, e.g. "10.31". */
  dataPercent?: string;
}

export interface FakeInstance {
  name: string;
  status: "running" | "ADMIN_down";
  memoryMiB: number;
  mac: string;
  ip: string | null;
  lv: string;
  /** Set by `add --tags` or a test (a hand-tagged instance); Ganeti lists them sorted. */
  tags?: string[];
}

/** A job submitted with `--submit`: it runs when first waited on (or `runJobs()`), as Ganeti's queue would. */
export interface FakeJob {
  id: number;
  argv: string[];
  summary: string;
  status: "queued" | "success" | "error";
  stderr: string;
}

export type Fault = (argv: readonly string[]) => { exitCode: number; stderr: string } | undefined;

export class FakeHostRunner implements Runner {
  readonly calls: string[][] = [];
  readonly lvs = new Map<string, FakeLv>();
  readonly instances = new Map<string, FakeInstance>();
  /** Copies made by dd: target device → source device. */
  readonly copies = new Map<string, string>();
  /** LVs activated with lvchange, in order. */
  readonly activated: string[] = [];
  faults: Fault[] = [];
  /** Awaited by every dd before it "copies": lets a test hold copies in flight. */
  ddGate: (argv: readonly string[]) => Promise<void> = async () => {};
  ddActive = 0;
  /** LVs a dd is writing (open): Ganeti refuses to adopt them. */
  readonly openLvs = new Set<string>();
  /** Told when Ganeti's adopt renames an LV (the harness moves its guest's files with it). */
  onRename: (from: string, to: string) => void = () => {};
  ddMaxActive = 0;
  readonly jobs: FakeJob[] = [];
  /** Awaited by every `gnt-job wait` before the job runs: lets a test hold a job in Ganeti's queue. */
  jobGate: (jobId: number) => Promise<void> = async () => {};

  constructor() {
    this.lvs.set("5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0", {
      name: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
      uuid: "mDuleW-xujX-WVrX-zMSu-WJkL-l2LO-nUs1lW",
      sizeBytes: 2 ** 30,
      origin: "",
    });
    this.instances.set("gallifrey.xivo.vm.farm", {
      name: "gallifrey.xivo.vm.farm",
      status: "running",
      memoryMiB: 4096,
      mac: "52:54:2b:9e:41:07",
      ip: null,
      lv: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
    });
  }

  /** Commands that would change the host (not queries, not checkers). */
  mutations(): string[][] {
    return this.calls.filter((a) => !isQuery(a));
  }

  async run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push([...argv]);
    for (const fault of this.faults) {
      const f = fault(argv);
      if (f) return this.result(argv, "", f.stderr, f.exitCode, opts);
    }
    if (argv[0] === "ionice") await this.holdCopy(argv, opts.signal);
    if (argv[0] === "gnt-job" && argv[1] === "wait") {
      const job = this.jobs.find((j) => j.id === Number(argv[2]));
      if (!job)
        return this.result(
          argv,
          "",
          recording("gnt-job-3.0.2-wait-unknown-id-stderr.txt").replace("999", argv[2]!),
          1,
          opts,
        );
      await this.jobGate(job.id);
      this.runJob(job);
      return this.result(argv, "", job.stderr, job.status === "error" ? 1 : 0, opts);
    }
    const out = this.dispatch(argv, opts);
    return this.result(argv, out.stdout ?? "", out.stderr ?? "", 0, opts);
  }

  /** Like execa's cancelSignal: an abort kills the dd, which then fails. */
  private async holdCopy(argv: readonly string[], signal?: AbortSignal): Promise<void> {
    this.ddMaxActive = Math.max(this.ddMaxActive, ++this.ddActive);
    const of = argv
      .find((a) => a.startsWith("of="))
      ?.split("/")
      .at(-1);
    if (of) this.openLvs.add(of);
    try {
      const killed = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(new CommandFailed(argv, undefined, "dd: killed\n"));
        signal?.addEventListener("abort", () =>
          reject(new CommandFailed(argv, undefined, "dd: killed\n")),
        );
      });
      await Promise.race([this.ddGate(argv), killed]);
    } finally {
      this.ddActive--;
      if (of) this.openLvs.delete(of);
    }
  }

  private result(
    argv: readonly string[],
    stdout: string,
    stderr: string,
    exitCode: number,
    opts: RunOptions,
  ): RunResult {
    if (stderr && opts.onStderr) opts.onStderr(stderr);
    if (exitCode !== 0 && !opts.allowFailure)
      throw new CommandFailed(argv, exitCode, stderr, stdout);
    return { argv, exitCode, stdout, stderr };
  }

  private dispatch(
    argv: readonly string[],
    opts: RunOptions,
  ): { stdout?: string; stderr?: string } {
    const [cmd, sub] = argv;
    if (cmd === "lvs") return { stdout: lvsJson(this.lvs) };
    if (cmd === "vgs") return { stdout: vgsJson(this.lvs) };
    if (cmd === "lvcreate") return this.lvcreate(argv);
    if (cmd === "lvremove") return this.lvremove(argv);
    if (cmd === "lvchange") return this.lvchange(argv);
    if (cmd === "ionice") return this.dd(argv, opts);
    if (cmd === "gnt-instance" && argv[2] === "--submit") return this.submit(argv);
    if (cmd === "gnt-instance") return this.ganeti(sub!, argv);
    if (cmd === "gnt-job" && sub === "list") return { stdout: this.jobList() };
    if (cmd === "gnt-node" && sub === "volumes") return { stdout: this.volumes() };
    if (["named-checkzone", "dhcpd", "nginx", "unshare"].includes(cmd!)) return { stdout: "OK\n" };
    if (cmd?.startsWith("reload-")) return {};
    throw new Error(`FakeHostRunner: unexpected command ${argv.join(" ")}`);
  }

  /** Ganeti's queue: what a job does happens later, when it runs. */
  private submit(argv: readonly string[]) {
    const real = argv.filter((a) => a !== "--submit" && a !== "--print-jobid");
    const op = { add: "INSTANCE_CREATE", remove: "INSTANCE_REMOVE" }[argv[1]!];
    if (!op) throw new Error(`FakeHostRunner: unexpected submit ${argv.join(" ")}`);
    const id = this.jobs.length + 4; // jobs 1-3 are the testbed's own (gnt-job-3.0.2-list-*)
    this.jobs.push({
      id,
      argv: real,
      summary: `${op}(${real.at(-1)})`,
      status: "queued",
      stderr: "",
    });
    return { stdout: `${id}\n`, stderr: `JobID: ${id}\n` };
  }

  /** Runs every job still queued: Ganeti finishing what farmd submitted, whoever waits. */
  runJobs(): void {
    for (const job of this.jobs) this.runJob(job);
  }

  private runJob(job: FakeJob): void {
    if (job.status !== "queued") return;
    const fault = this.faults.map((f) => f(job.argv)).find(Boolean);
    try {
      if (fault) throw new CommandFailed(job.argv, fault.exitCode, fault.stderr);
      this.ganeti(job.argv[1]!, job.argv);
      job.status = "success";
    } catch (err) {
      if (!(err instanceof CommandFailed)) throw err;
      job.status = "error";
      job.stderr = `Job ${job.id} failed: ${err.stderr}`;
    }
  }

  private jobList(): string {
    return this.jobs.map((j) => `${j.id}|${j.status}|${j.summary}\n`).join("");
  }

  private lvcreate(argv: readonly string[]) {
    const opt = (name: string) => argv[argv.indexOf(name) + 1]!;
    const name = opt("--name");
    if (this.lvs.has(name)) throw new Error(`FakeHostRunner: lvcreate of existing ${name}`);
    const tags = argv.flatMap((a, i) => (argv[i - 1] === "--addtag" ? [a] : []));
    const last = argv.at(-1)!.split("/").at(-1)!;
    if (argv.includes("--thin")) {
      const sizeBytes = Number(opt("--virtualsize").replace(/b$/, ""));
      const lv = { name, uuid: randomUUID(), sizeBytes, origin: "", tags };
      this.lvs.set(name, { ...lv, segtype: "thin", pool: last });
      return { stdout: `  Logical volume "${name}" created.\n` };
    }
    const origin = argv.includes("--snapshot") ? last : "";
    const src = this.lvs.get(origin);
    if (src?.segtype === "thin" && !argv.includes("--size")) {
      const { sizeBytes, pool } = src; // a thin snapshot: the origin's size, in its pool
      this.lvs.set(name, {
        name,
        uuid: randomUUID(),
        sizeBytes,
        origin,
        tags,
        segtype: "thin",
        pool,
      });
      return { stdout: `  Logical volume "${name}" created.\n` };
    }
    const sizeBytes = Number(opt("--size").replace(/b$/, ""));
    this.lvs.set(name, { name, uuid: randomUUID(), sizeBytes, origin, tags });
    return { stdout: `  Logical volume "${name}" created.\n` };
  }

  /** Activation: the LV must exist (LVM: "Failed to find logical volume"). */
  private lvchange(argv: readonly string[]) {
    const name = argv.at(-1)!.split("/").at(-1)!;
    if (!this.lvs.has(name))
      return this.fail(argv, `  Failed to find logical volume "all/${name}"\n`, 5);
    this.activated.push(name);
    return {};
  }

  private lvremove(argv: readonly string[]) {
    const name = argv.at(-1)!.split("/").at(-1)!;
    if (!this.lvs.delete(name))
      return this.fail(argv, `  Failed to find logical volume "all/${name}"\n`, 5);
    return { stdout: `  Logical volume "${name}" successfully removed.\n` };
  }

  private dd(argv: readonly string[], opts: RunOptions) {
    const arg = (k: string) => argv.find((a) => a.startsWith(`${k}=`))!.slice(k.length + 1);
    const size = this.lvs.get(arg("if").split("/").at(-1)!)?.sizeBytes ?? 0;
    this.copies.set(arg("of"), arg("if"));
    return { stderr: ddStderr(size) };
  }

  /** `gnt-node volumes -o node,vg,name,instance`: the format of gnt-node-3.0.2-volumes.txt. */
  private volumes(): string {
    const owner = new Map([...this.instances.values()].map((i) => [i.lv, i.name]));
    return [...this.lvs.keys()]
      .sort()
      .map((lv) => `host01.farm|all|${lv}|${owner.get(lv) ?? "-"}\n`)
      .join("");
  }

  private ganeti(sub: string, argv: readonly string[]) {
    const fqdn = argv.at(-1)!;
    const inst = this.instances.get(fqdn);
    switch (sub) {
      case "list":
        // `-o name,tags` (instanceTags): the format of gnt-instance-3.0.2-list-tags.txt
        if (argv.includes("name,tags"))
          return {
            stdout: [...this.instances.values()]
              .sort((a, b) => a.name.localeCompare(b.name))
              .map((i) => `${i.name}|${[...(i.tags ?? [])].sort().join(",")}\n`)
              .join(""),
          };
        return {
          stdout:
            [...this.instances.values()]
              .sort((a, b) => a.name.localeCompare(b.name))
              .map((i) =>
                [
                  i.name,
                  i.status,
                  i.status === "running" ? "Y" : "N",
                  "plain",
                  "host01.farm",
                  i.memoryMiB,
                  i.ip ?? "None",
                  i.mac,
                  this.lvs.get(i.lv)!.sizeBytes / 2 ** 20,
                ].join("|"),
              )
              .join("\n") + "\n",
        };
      case "info": {
        // one or several names after --static: one "- Instance name:" item each, in that order
        const names = argv.slice(argv.indexOf("--static") + 1);
        const items = names.map((n) => [n, this.instances.get(n)] as const);
        if (items.some(([, i]) => !i))
          return this.fail(argv, recording("gnt-instance-3.0.2-info-unknown-name-stderr.txt"), 1);
        return {
          stdout: items
            .map(([n, i]) =>
              recording("gnt-instance-3.0.2-info-static-stopped.txt")
                .replaceAll("gallifrey.xivo.vm.farm", n)
                .replace(/logical_id: all\/\S+/, `logical_id: all/${i!.lv}`),
            )
            .join(""),
        };
      }
      case "add": {
        const adopt = argv.find((a) => a.startsWith("0:adopt="))!.slice("0:adopt=".length);
        const mac = argv.find((a) => a.startsWith("0:mac="))!.slice("0:mac=".length);
        const lv = this.lvs.get(adopt);
        if (!lv)
          return this.fail(argv, recording("gnt-instance-3.0.2-add-missing-lv-stderr.txt"), 1);
        // Ganeti 3.0's LUInstanceCreate.CheckPrereq: an open ("online") LV is never adopted.
        if (this.openLvs.has(adopt))
          return this.fail(
            argv,
            "Failure: prerequisites not met for this operation:\nerror type: wrong_state, error details:\n" +
              `Online logical volumes found, cannot adopt: all/${adopt}\n`,
            1,
          );
        const renamed = `${randomUUID()}.disk0`;
        this.lvs.delete(adopt);
        this.lvs.set(renamed, { ...lv, name: renamed });
        this.onRename(adopt, renamed);
        const memory = argv.find((a) => a.startsWith("memory="))!.slice("memory=".length);
        this.instances.set(fqdn, {
          name: fqdn,
          status: "ADMIN_down",
          memoryMiB: parseInt(memory, 10) * (memory.endsWith("G") ? 1024 : 1),
          mac,
          ip: null,
          lv: renamed,
          tags: argv.flatMap((a, i) => (argv[i - 1] === "--tags" ? a.split(",") : [])),
        });
        return { stdout: "" };
      }
      case "modify": {
        if (!inst) throw new Error(`FakeHostRunner: modify of unknown instance ${fqdn}`);
        const memory = argv[argv.indexOf("-B") + 1]!.slice("memory=".length);
        inst.memoryMiB = parseInt(memory, 10) * (memory.endsWith("G") ? 1024 : 1);
        return { stdout: `Modified instance ${fqdn}\n - be/memory -> ${inst.memoryMiB}\n` };
      }
      case "start":
        if (!inst)
          return this.fail(argv, recording("gnt-instance-3.0.2-start-unknown-stderr.txt"), 1);
        inst.status = "running";
        return {};
      case "shutdown":
        if (!inst)
          return this.fail(argv, recording("gnt-instance-3.0.2-shutdown-unknown-stderr.txt"), 1);
        inst.status = "ADMIN_down";
        return {};
      case "remove":
        if (!inst)
          return this.fail(argv, recording("gnt-instance-3.0.2-remove-unknown-stderr.txt"), 1);
        this.instances.delete(fqdn);
        this.lvs.delete(inst.lv); // plain: Ganeti 3.0 removes the disk with the instance
        return {};
    }
    throw new Error(`FakeHostRunner: unexpected gnt-instance ${sub}`);
  }

  private fail(argv: readonly string[], stderr: string, exitCode: number): never {
    throw new CommandFailed(argv, exitCode, stderr);
  }
}

/** The recorded dd progress, cut to a copy of `size` bytes, with dd's summary for that size. */
function ddStderr(size: number): string {
  const progress = recording("dd-9.1-progress-stderr.txt")
    .split(/[\r\n]/)
    .filter(
      (l) => /^\d+ bytes/.test(l) && Number(l.split(" ")[0]) < size && !/\d+\.\d+ s,/.test(l),
    );
  const records = Math.ceil(size / 2 ** 20);
  return (
    progress.map((l) => `\r${l}`).join("") +
    `\n${records}+0 records in\n${records}+0 records out\n${size} bytes (1.1 GB, 1.0 GiB) copied, 8.12 s, 132 MB/s\n`
  );
}

function isQuery(argv: readonly string[]): boolean {
  const [cmd, sub] = argv;
  return (
    cmd === "lvs" ||
    cmd === "vgs" ||
    (cmd === "gnt-instance" && (sub === "list" || sub === "info")) ||
    (cmd === "gnt-node" && sub === "volumes") ||
    cmd === "gnt-job" ||
    ["named-checkzone", "dhcpd", "nginx", "unshare"].includes(cmd!)
  );
}
