// Ganeti jobs (--submit --print-jobid, gnt-job wait, gnt-job list) against Ganeti 3.0.2 output
// recorded on the testbed (test/recordings/INDEX-ganeti-lvm-dd.md).
import { describe, expect, it } from "vitest";
import { parseJobFailure, parseJobId, parseJobList } from "../../src/host/ganeti-parse.js";
import { Ganeti } from "../../src/host/ganeti.js";
import { ScriptedRunner, recording, failure } from "../fakes/scripted-runner.js";

const job = (c: string) => recording(`gnt-job-3.0.2-${c}.txt`);
const inst = (c: string) => recording(`gnt-instance-3.0.2-${c}.txt`);
const JOBS = ["gnt-job", "list", "--no-headers", "--separator=|", "-o", "id,status,summary"];
const ADD = {
  node: "host01.farm",
  memory: "256M",
  os: "nosuchos+default",
  lvName: "dalek",
  mac: "52:54:00:ab:cd:01",
  fqdn: "dalek.xivo.vm.farm",
};

describe("job output", () => {
  it("reads the bare id of --print-jobid and refuses anything else", () => {
    expect(parseJobId(inst("add-submit"))).toBe(4);
    expect(parseJobId(inst("remove-submit"))).toBe(12);
    // a multi-instance command prints "N: name": not what farmd submits
    expect(() => parseJobId(inst("start-submit"))).toThrow(/no job id/);
    expect(() => parseJobId("")).toThrow(/no job id/);
  });

  it("reads gnt-job list: id, status and the opcode summaries", () => {
    expect(parseJobList(job("list-waiting")).at(-1)).toEqual({
      id: 4,
      status: "waiting",
      summary: ["INSTANCE_CREATE(tardis.xivo.vm.farm)"],
    });
    expect(parseJobList(job("list-error")).map((j) => `${j.id}:${j.status}`)).toEqual([
      "1:success",
      "2:success",
      "3:success",
      "4:success",
      "5:error",
    ]);
    expect(parseJobList(job("list-unknown-id"))).toEqual([
      { id: 999, status: "-", summary: ["-"] },
    ]);
    expect(() => parseJobList("4 waiting INSTANCE_CREATE(x)\n")).toThrow(/id\|status\|summary/);
  });

  it("tells a job refused at its checks from one that failed while acting", () => {
    expect(parseJobFailure(6, job("wait-missing-lv-stderr")).prerequisites).toBe(true);
    expect(parseJobFailure(13, job("wait-remove-unknown-stderr")).prerequisites).toBe(true);
    const os = parseJobFailure(5, job("wait-bad-os-stderr"));
    expect(os).toEqual({
      text: inst("add-bad-os-stderr"), // the same words as without --submit
      prerequisites: false,
    });
  });
});

describe("Ganeti jobs", () => {
  it("journals the id before waiting, and fails with Ganeti's message when the job fails", async () => {
    const order: string[] = [];
    const r = new ScriptedRunner([
      {
        argv: (a) => a[1] === "add" && a[2] === "--submit" && a[3] === "--print-jobid",
        stdout: inst("add-submit-bad-os"),
        stderr: inst("add-submit-bad-os-stderr"),
      },
      {
        argv: ["gnt-job", "wait", "5"],
        exitCode: 1,
        stderr: job("wait-bad-os-stderr"),
        effect: () => void order.push("wait"),
      },
    ]);
    const err = await failure(new Ganeti(r).add(ADD, (id) => order.push(`journal ${id}`)));
    expect(order).toEqual(["journal 5", "wait"]);
    expect(err.message).toContain("gnt-instance add -n host01.farm");
    expect(err.hint).toContain("Directory for OS nosuchos not found in search path");
    expect(err.details).toMatchObject({ jobId: 5, prerequisites: false });
    r.assertDone();
  });

  it("maps a job's typed failure like the command's own", async () => {
    const r = new ScriptedRunner([
      { argv: ["gnt-job", "wait", "7"], exitCode: 1, stderr: job("wait-unresolvable-stderr") },
      { argv: ["gnt-job", "wait", "13"], exitCode: 1, stderr: job("wait-remove-unknown-stderr") },
      { argv: ["gnt-job", "wait", "4"], stdout: "" },
    ]);
    const g = new Ganeti(r);
    const dns = await g.waitJob(7);
    expect(dns).toMatchObject({ code: "bad_input", details: { prerequisites: true } });
    expect(dns?.message).toContain("The given name (nowhere.xivo.vm.farm) does not resolve");
    expect((await g.waitJob(13))?.code).toBe("not_found");
    expect(await g.waitJob(4)).toBeNull();
    r.assertDone();
  });

  it("finds an unfinished job by its summary, never a finished one", async () => {
    const r = new ScriptedRunner([
      { argv: JOBS, stdout: job("list-waiting") },
      { argv: JOBS, stdout: job("list-success") },
      { argv: JOBS, stdout: job("list-queued") },
      { argv: JOBS, stdout: job("list-queued") },
    ]);
    const g = new Ganeti(r);
    expect(await g.unfinishedJob("INSTANCE_CREATE", "tardis.xivo.vm.farm")).toBe(4);
    expect(await g.unfinishedJob("INSTANCE_CREATE", "tardis.xivo.vm.farm")).toBeNull();
    expect(await g.unfinishedJob("INSTANCE_REMOVE", "tardis.xivo.vm.farm")).toBe(12);
    // another instance's job is not ours
    expect(await g.unfinishedJob("INSTANCE_REMOVE", "tardis2.xivo.vm.farm")).toBeNull();
    r.assertDone();
  });

  it("a dry run shows the submit and waits on nothing", async () => {
    const r = new ScriptedRunner([
      {
        argv: ["gnt-instance", "remove", "--submit", "--print-jobid", "-f", "tardis.xivo.vm.farm"],
      },
    ]);
    const jobs: number[] = [];
    await new Ganeti(r, { dryRun: true }).remove("tardis.xivo.vm.farm", (id) => jobs.push(id));
    expect(jobs).toEqual([]);
    r.assertDone();
  });

  it("refuses a shutdown timeout that is not whole seconds", async () => {
    const g = new Ganeti(new ScriptedRunner());
    expect((await failure(g.shutdown("tardis.xivo.vm.farm", -1))).code).toBe("bad_input");
    expect((await failure(g.shutdown("tardis.xivo.vm.farm", 1.5))).code).toBe("bad_input");
  });
});
