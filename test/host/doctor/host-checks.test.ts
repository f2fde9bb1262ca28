// Ganeti's nodes, the VG, the monitor dir, farmd's socket and the throttle, from recorded answers.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkGanetiNode,
  checkMonitorDir,
  checkSocket,
  checkThrottle,
  checkVg,
  NODE_LIST,
} from "../../../src/host/doctor/host-checks.js";
import { Lvm } from "../../../src/host/lvm.js";
import { PacingThrottle } from "../../../src/host/throttle/pacing.js";
import { recording, ScriptedRunner } from "../../fakes/scripted-runner.js";

const dir = mkdtempSync(join(tmpdir(), "farm-doctor-host-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ganeti node", () => {
  const nodes = () =>
    new ScriptedRunner([{ argv: NODE_LIST, stdout: recording("gnt-node-3.0.2-list-names.txt") }]);

  it("is ok when [ganeti] node is one of the cluster's", async () => {
    const c = await checkGanetiNode(nodes(), "host01.farm");
    expect(c).toEqual({
      id: "ganeti node",
      status: "ok",
      detail: "host01.farm is a node of the cluster (1 node)",
    });
  });

  it("a node not in the cluster fails naming the cluster's nodes", async () => {
    const c = await checkGanetiNode(nodes(), "host02.farm");
    expect(c).toEqual({
      id: "ganeti node",
      status: "fail",
      detail: "[ganeti] node 'host02.farm' is not a node of the cluster (its nodes: host01.farm)",
      fix: "set [ganeti] node in farmd.toml to one of: host01.farm",
    });
  });

  it("a cluster that does not answer fails with Ganeti's message", async () => {
    const runner = new ScriptedRunner([
      {
        argv: NODE_LIST,
        exitCode: 1,
        stderr: recording("gnt-instance-3.0.2-list-luxid-down-stderr.txt"),
      },
    ]);
    const c = await checkGanetiNode(runner, "host01.farm");
    expect(c.status).toBe("fail");
    expect(c.detail).toMatch(/^Ganeti does not answer: Timeout while talking to the master daemon/);
  });
});

describe("lvm vg", () => {
  const vgs = (stdout: string, exitCode = 0, stderr = "") =>
    new ScriptedRunner([{ argv: (a) => a[0] === "vgs", stdout, exitCode, stderr }]);

  it("says its free space", async () => {
    const c = await checkVg(new Lvm(vgs(recording("vgs-2.03.16-json-all.txt"))), "all");
    expect(c).toEqual({ id: "lvm vg", status: "ok", detail: "'all': 39.0 GiB free of 40.0 GiB" });
  });

  it("a VG that does not exist fails", async () => {
    const runner = vgs(
      recording("vgs-2.03.16-json-novg.txt"),
      5,
      recording("vgs-2.03.16-json-novg-stderr.txt"),
    );
    const c = await checkVg(new Lvm(runner), "nope");
    expect(c.status).toBe("fail");
    expect(c.fix).toMatch(/^set \[lvm\] vg/);
  });
});

describe("monitor dir, socket, throttle", () => {
  it("the monitor dir must exist", () => {
    expect(checkMonitorDir(dir).status).toBe("ok");
    expect(checkMonitorDir(join(dir, "ctrl")).status).toBe("fail");
  });

  it("the socket: mode 0660 and its group; world access fails", async () => {
    const socket = join(dir, "farmd.sock");
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(socket, r));
    try {
      chmodSync(socket, 0o660);
      const c = checkSocket(socket, undefined, undefined);
      expect(c.status).toBe("ok");
      expect(c.detail).toMatch(/mode 0660, group root/);
      expect(checkSocket(socket, "farmctl", undefined)).toMatchObject({
        status: "fail",
        fix: "groupadd --system farmctl",
      });
      chmodSync(socket, 0o666);
      expect(checkSocket(socket, undefined, undefined).status).toBe("fail");
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
    expect(checkSocket(socket, undefined, undefined).detail).toBe(`${socket} does not exist`);
  });

  it("the throttle says which mechanism would hold a limit, and why pacing", () => {
    const pacing = new PacingThrottle({ why: "no systemd (/run/systemd/system)" });
    expect(checkThrottle(pacing, 0).detail).toBe(
      "no [copy] bwlimit: copies run at idle I/O priority only; a limit would be held by pacing (no systemd (/run/systemd/system))",
    );
    expect(checkThrottle(pacing, 100 * 2 ** 20)).toMatchObject({
      status: "warn",
      detail: "100 MiB/s held by pacing (no systemd (/run/systemd/system))",
    });
  });
});
