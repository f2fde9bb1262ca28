// Ganeti adapter against gnt-instance 3.0.2 output recorded on a real single-node cluster.
import { describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import {
  isPlaceholder,
  parseGanetiFailure,
  parseInstanceInfo,
  parseInstanceInfos,
  parseInstanceList,
} from "../../src/host/ganeti-parse.js";
import { Ganeti } from "../../src/host/ganeti.js";
import type { RunOptions } from "../../src/host/runner.js";
import { ScriptedRunner, recording, failure } from "../fakes/scripted-runner.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const rec = (c: string) => recording(`gnt-instance-3.0.2-${c}.txt`);
const LIST = [
  "gnt-instance",
  "list",
  "--no-headers",
  "--separator=|",
  "--units=m",
  "-o",
  "name,status,oper_state,disk_template,pnode,be/memory,nic.ips,nic.macs,disk.sizes",
];
const GALLIFREY = "gallifrey.xivo.vm.farm";
const DEV = "gallifrey-dev.xivo.vm.farm";
const readOnly = (want: boolean) => (_argv: readonly string[], opts: RunOptions) => {
  expect(opts.readOnly ?? false).toBe(want);
};

describe("parseInstanceList", () => {
  it("reads a running instance without IP", () => {
    expect(parseInstanceList(rec("list-running"))).toEqual([
      {
        name: GALLIFREY,
        status: "running",
        operState: true,
        diskTemplate: "plain",
        primaryNode: "host01.farm",
        memoryBytes: 4 * GiB,
        nicIps: [null],
        nicMacs: ["52:54:00:12:34:56"],
        diskSizesBytes: [GiB],
      },
    ]);
  });

  it("reads stopped, killed and node-down states", () => {
    const [stopped] = parseInstanceList(rec("list-stopped"));
    expect([stopped?.status, stopped?.operState]).toEqual(["ADMIN_down", false]);
    const killed = parseInstanceList(rec("list-error-down")).find((i) => i.name === GALLIFREY);
    expect([killed?.status, killed?.operState]).toEqual(["ERROR_down", false]);
    // ganeti-noded stopped: oper_state is Ganeti's "?" (RS_NODATA)
    const down = parseInstanceList(rec("list-noded-down"));
    expect(down.map((i) => [i.status, i.operState])).toEqual([
      ["ERROR_nodedown", null],
      ["ERROR_nodedown", null],
      ["ERROR_nodedown", null],
    ]);
    expect(down.map((i) => i.memoryBytes)).toEqual([GiB, 4 * GiB, 2 * GiB]);
  });

  it("tells a NIC with an IP from one without", () => {
    const two = parseInstanceList(rec("list-two"));
    expect(two.map((i) => [i.name, i.nicIps, i.memoryBytes, i.diskSizesBytes])).toEqual([
      [GALLIFREY, [null], 4 * GiB, [GiB]],
      ["tardis.xivo.vm.farm", ["192.168.77.7"], 2 * GiB, [2 * GiB]],
    ]);
  });

  it("splits list fields of several NICs and disks", () => {
    const dev = parseInstanceList(rec("list-three"))[0]!;
    expect(dev.name).toBe(DEV);
    expect(dev.nicIps).toEqual(["192.168.77.6", null]);
    expect(dev.nicMacs).toEqual(["52:54:00:00:00:06", "52:54:00:00:01:06"]);
    expect(dev.diskSizesBytes).toEqual([GiB, 1536 * MiB]);
  });

  it("reads an empty cluster and rejects other field lists", () => {
    expect(parseInstanceList("")).toEqual([]);
    const err = (() => {
      try {
        parseInstanceList(rec("list-unknown-field"));
      } catch (e) {
        return e as FarmError;
      }
    })();
    expect(err?.code).toBe("unexpected_output");
  });

  it("knows Ganeti's placeholders (nic.ip/0 of a NIC without IP is '-')", () => {
    const fields = rec("list-disk-ids").trim().split("|");
    expect(fields[10]).toBe("-");
    expect(["-", "*", "?", "??"].every(isPlaceholder)).toBe(true);
    expect(isPlaceholder("None")).toBe(false);
  });
});

describe("parseInstanceInfo", () => {
  it("finds the renamed LV in logical_id, static or not", () => {
    for (const c of ["info-static-stopped", "info-stopped", "info-running"]) {
      expect(parseInstanceInfo(rec(c))).toEqual({
        name: GALLIFREY,
        diskTemplate: "plain",
        disks: [
          {
            index: 0,
            type: "plain",
            logicalId: "all/5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
            name: null,
            uuid: "abbd2935-1231-4dd4-bd6c-9c18f908de14",
          },
        ],
      });
    }
  });

  it("splits the info of several instances, each with its own disks", () => {
    const infos = parseInstanceInfos(rec("info-static-two"));
    expect(infos.map((i) => [i.name, i.diskTemplate, i.disks.map((d) => d.logicalId)])).toEqual([
      [GALLIFREY, "plain", ["all/e6f3693e-368f-4992-8c1a-b3feddf8a2c2.disk0"]],
      ["vm0001.scale.vm.farm", "diskless", []],
    ]);
  });

  it("reads every disk of a multi-disk instance", () => {
    const info = parseInstanceInfo(rec("info-static-multi"));
    expect(info.disks.map((d) => [d.index, d.logicalId, d.name])).toEqual([
      [0, "all/192b8d9d-2f4a-40ae-9b0f-0b5adbade06c.disk0", null],
      [1, "all/2c1b6215-2df3-4ae1-bbf5-2b82358b7762.disk1", "data"],
    ]);
  });
});

describe("Ganeti", () => {
  it("lists with a read-only query", async () => {
    const r = new ScriptedRunner([
      { argv: LIST, stdout: rec("list-three"), effect: readOnly(true) },
    ]);
    const g = new Ganeti(r);
    expect((await g.listInstances()).map((i) => i.name)).toEqual([
      DEV,
      GALLIFREY,
      "tardis.xivo.vm.farm",
    ]);
    r.assertDone();
  });

  it("finds an exact name only", async () => {
    const r = new ScriptedRunner([
      { argv: LIST, stdout: rec("list-three") },
      { argv: LIST, stdout: rec("list-three") },
    ]);
    const g = new Ganeti(r);
    expect((await g.findInstance(GALLIFREY))?.nicMacs).toEqual(["52:54:00:12:34:56"]);
    expect(await g.findInstance("gallifrey")).toBeNull();
    r.assertDone();
  });

  it("finds the disks through Ganeti with their exact sizes", async () => {
    const r = new ScriptedRunner([
      { argv: LIST, stdout: rec("list-three") },
      {
        argv: ["gnt-instance", "info", "--static", DEV],
        stdout: rec("info-static-multi"),
        effect: readOnly(true),
      },
    ]);
    expect(await new Ganeti(r).instanceDisks(DEV)).toEqual([
      { index: 0, vg: "all", lv: "192b8d9d-2f4a-40ae-9b0f-0b5adbade06c.disk0", sizeBytes: GiB },
      {
        index: 1,
        vg: "all",
        lv: "2c1b6215-2df3-4ae1-bbf5-2b82358b7762.disk1",
        sizeBytes: 1536 * MiB,
      },
    ]);
    r.assertDone();
  });

  it("refuses disks of an instance it cannot find", async () => {
    const r = new ScriptedRunner([{ argv: LIST, stdout: rec("list-running") }]);
    const err = await failure(new Ganeti(r).instanceDisks("nosuch.xivo.vm.farm"));
    expect(err.code).toBe("not_found");
    r.assertDone();
  });

  it("reads the disks of many instances in one info call, plain ones only", async () => {
    const [gallifrey] = parseInstanceList(rec("list-running"));
    const diskless = { name: "vm0001.scale.vm.farm", diskTemplate: "diskless", diskSizesBytes: [] };
    const r = new ScriptedRunner([
      {
        argv: ["gnt-instance", "info", "--static", GALLIFREY],
        stdout: rec("info-static-stopped"),
        effect: readOnly(true),
      },
    ]);
    const g = new Ganeti(r);
    expect(await g.disksOf([gallifrey!, diskless])).toEqual(
      new Map([
        [
          GALLIFREY,
          [
            {
              index: 0,
              vg: "all",
              lv: "5901b76b-1be1-4f2c-a03c-b2ceb3c15d06.disk0",
              sizeBytes: GiB,
            },
          ],
        ],
      ]),
    );
    expect(await g.disksOf([diskless])).toEqual(new Map()); // nothing to ask: no call
    r.assertDone();
  });

  it("maps every LV to its instance with one gnt-node volumes", async () => {
    const r = new ScriptedRunner([
      {
        argv: [
          "gnt-node",
          "volumes",
          "--no-headers",
          "--separator=|",
          "-o",
          "node,vg,name,instance",
        ],
        stdout: recording("gnt-node-3.0.2-volumes.txt"),
        effect: readOnly(true),
      },
    ]);
    expect(await new Ganeti(r).volumes()).toEqual([
      {
        node: "host01.farm",
        vg: "all",
        name: "e6f3693e-368f-4992-8c1a-b3feddf8a2c2.disk0",
        instance: GALLIFREY,
      },
    ]);
    r.assertDone();
  });

  const add = {
    node: "host01.farm",
    memory: "4G",
    os: "debootstrap+default",
    lvName: "dev",
    mac: "52:54:86:b3:3f:10",
    fqdn: "gallifrey-dev.xivo.vm.farm",
  };
  const seed =
    "gnt-instance add -n host01.farm -B memory=4G -o debootstrap+default -t plain --disk 0:adopt=dev --no-install --net 0:mac=52:54:86:b3:3f:10 gallifrey-dev.xivo.vm.farm";

  it("builds the seed's add command exactly", () => {
    expect(new Ganeti(new ScriptedRunner()).addArgv(add)).toEqual(seed.split(" "));
  });

  it("refuses parameters that would change the command's meaning", () => {
    const g = new Ganeti(new ScriptedRunner());
    for (const bad of [
      { lvName: "dev,size=1G" },
      { lvName: "-dev" },
      { mac: "52:54:86:b3:3f:1G" },
      { fqdn: "x y" },
      { memory: "4G,vcpus=8" },
      { os: "" },
    ]) {
      expect(() => g.addArgv({ ...add, ...bad })).toThrow(/invalid/);
    }
  });

  it("adds, starts, shuts down and removes (changes are not read-only)", async () => {
    const fq = GALLIFREY;
    const submitted = (argv: string[]) => [
      argv[0]!,
      argv[1]!,
      "--submit",
      "--print-jobid",
      ...argv.slice(2),
    ];
    const wait = (id: string) => ({ argv: ["gnt-job", "wait", id], effect: readOnly(true) });
    const r = new ScriptedRunner([
      {
        argv: submitted(seed.split(" ")),
        stdout: rec("add-submit"),
        stderr: rec("add-submit-stderr"),
        effect: readOnly(false),
      },
      wait("4"),
      { argv: ["gnt-instance", "start", fq], stdout: rec("start"), effect: readOnly(false) },
      {
        argv: ["gnt-instance", "shutdown", "--timeout=30", fq],
        stdout: rec("shutdown-timeout-30"),
      },
      { argv: ["gnt-instance", "shutdown", "--timeout=0", fq], stdout: rec("shutdown-timeout-0") },
      {
        argv: submitted(["gnt-instance", "remove", "-f", fq]),
        stdout: rec("remove-submit"),
        stderr: rec("remove-submit-stderr"),
        effect: readOnly(false),
      },
      wait("12"),
    ]);
    const g = new Ganeti(r);
    const jobs: number[] = [];
    await g.add(add, (id) => jobs.push(id));
    await g.start(fq);
    await g.shutdown(fq, 30);
    await g.shutdown(fq, 0);
    await g.remove(fq, (id) => jobs.push(id));
    expect(jobs).toEqual([4, 12]);
    r.assertDone();
  });

  const failing = async (c: string, call: (g: Ganeti) => Promise<unknown>) => {
    const r = new ScriptedRunner([
      { argv: () => true, stderr: rec(`${c}-stderr`), exitCode: c.includes("field") ? 14 : 1 },
    ]);
    return failure(call(new Ganeti(r)));
  };

  it("maps Ganeti's error types to farmctl's codes", async () => {
    const cases: [string, (g: Ganeti) => Promise<unknown>, string][] = [
      ["add-exists", (g) => g.add(add), "already_exists"],
      ["add-dup-mac", (g) => g.add(add), "already_exists"],
      ["add-unresolvable", (g) => g.add(add), "bad_input"],
      ["add-missing-lv", (g) => g.add(add), "bad_input"],
      ["add-bad-os", (g) => g.add(add), "command_failed"],
      ["start-unknown", (g) => g.start("nosuch.xivo.vm.farm"), "not_found"],
      ["shutdown-unknown", (g) => g.shutdown("nosuch.xivo.vm.farm", 0), "not_found"],
      ["remove-unknown", (g) => g.remove("tardis.xivo.vm.farm"), "not_found"],
      ["info-unknown-name", (g) => g.start("nosuch.xivo.vm.farm"), "not_found"],
      ["list-luxid-down", (g) => g.listInstances(), "unavailable"],
      ["list-unknown-field", (g) => g.listInstances(), "command_failed"],
    ];
    for (const [c, call, code] of cases)
      expect([c, (await failing(c, call)).code]).toEqual([c, code]);
  });

  it("keeps Ganeti's own words in the message", async () => {
    const err = await failing("add-dup-mac", (g) => g.add(add));
    expect(err.message).toContain("MAC address 52:54:00:12:34:56 already in use in cluster");
    expect(err.details?.ganetiErrorType).toBe("resource_not_unique");
    const os = await failing("add-bad-os", (g) => g.add(add));
    expect(os.hint).toContain("Directory for OS nosuchos not found");
  });

  it("parses failures without an error type", () => {
    expect(parseGanetiFailure(rec("add-bad-os-stderr"))).toEqual({
      errorType: null,
      details:
        "OS Parameters validation failed on node host01.farm: Directory for OS nosuchos not found in search path",
      masterTimeout: false,
    });
  });
});

describe("a host that is not a Ganeti node", () => {
  it("is 'unavailable' (exit 69), not bad input", async () => {
    const runner = new ScriptedRunner([
      {
        argv: (a) => a[0] === "gnt-instance" && a[1] === "list",
        exitCode: 1,
        stderr: recording("gnt-instance-3.0.2-list-no-cluster-stderr.txt"),
      },
    ]);
    const err = await failure(new Ganeti(runner).listInstances());
    expect(err.code).toBe("unavailable");
    expect(err.exitCode).toBe(69);
    expect(err.hint).toContain("Ganeti master node");
  });
});
