// `farmctl destroy` against host01's files and the simulated LVM/Ganeti: the clone in reverse, and
// a failure at each step puts the VM back as it was.
import { afterEach, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { destroySteps } from "../../src/ops/destroy/steps.js";
import type { Fault } from "../fakes/fake-host-runner.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

/** The files with the zone's SOA serial masked: it must go up on every edit, so it never returns. */
function withoutSerial(files: Map<string, string>): Map<string, string> {
  return new Map(
    [...files].map(([p, t]) => [
      p,
      p.endsWith("db.farm") ? t.replace(/\d{10}(\s*; Serial)/, "SERIAL$1") : t,
    ]),
  );
}

const fails =
  (pred: (a: readonly string[]) => boolean): Fault =>
  (a) =>
    pred(a) ? { exitCode: 1, stderr: "injected failure\n" } : undefined;

describe("destroy gallifrey-dev", () => {
  it("undoes the clone: files as before (serial aside), disk and instance gone, allocation free", async () => {
    h = harness();
    const before = h.snapshot();
    const lvsBefore = [...h.runner.lvs.keys()];
    const made = await h.clone({});
    const r = await h.destroy({ name: "gallifrey-dev" });
    expect(r).toMatchObject({
      name: "gallifrey-dev",
      instance: "gallifrey-dev.xivo.vm.farm",
      ip: "10.10.60.6",
      madeByFarmctl: true,
    });
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
    const serial = (m: Map<string, string>) =>
      Number(/(\d{10})\s*; Serial/.exec([...m].find(([p]) => p.endsWith("db.farm"))![1])![1]);
    expect(serial(h.snapshot())).toBeGreaterThan(serial(before));
    expect([...h.runner.lvs.keys()]).toEqual(lvsBefore);
    expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
    expect(h.inventory.list()).toEqual([]);
    expect(
      h.runner.calls.filter(
        (a) => a[0] === "gnt-instance" && ["shutdown", "remove"].includes(a[1]!),
      ),
    ).toEqual([
      ["gnt-instance", "shutdown", "--timeout=30", made.instance], // [ganeti] shutdown_timeout
      ["gnt-instance", "remove", "--submit", "--print-jobid", "-f", made.instance],
    ]);
    // The address is free again: the next clone gets it.
    expect((await h.clone({ name: "gallifrey-qa" })).ip).toBe("10.10.60.6");
  });

  it("never touches the VM it was cloned from", async () => {
    h = harness();
    await h.clone({});
    const source = h.runner.instances.get("gallifrey.xivo.vm.farm");
    const sourceLv = [...h.runner.lvs.values()].find((l) => l.name === source!.lv);
    await h.destroy({ name: "gallifrey-dev" });
    expect(h.runner.instances.get("gallifrey.xivo.vm.farm")).toEqual(source);
    expect(h.runner.lvs.get(source!.lv)).toEqual(sourceLv);
    expect(
      h.runner.calls.filter((a) => a.includes("gallifrey.xivo.vm.farm") && a[1] !== "info"),
    ).toEqual([]);
  });

  it("refuses a VM farmctl did not make, unless --force", async () => {
    h = harness();
    const err = await failure(h.destroy({ name: "gallifrey" }));
    expect(err.message).toBe("VM 'gallifrey' (gallifrey.xivo.vm.farm) was not made by farmctl");
    expect(err.hint).toContain("--force");
    expect(err.exitCode).toBe(65);
    expect(h.runner.mutations()).toEqual([]);
    const unknown = await failure(h.destroy({ name: "tardis" }));
    expect(unknown.code).toBe("not_found");
  });

  it("with --force removes a hand-made VM's instance and names the hand-written lines it leaves", async () => {
    h = harness();
    const before = h.snapshot();
    const r = await h.destroy({ name: "gallifrey", force: true });
    expect(r.madeByFarmctl).toBe(false);
    expect(h.runner.instances.size).toBe(0);
    expect(h.snapshot()).toEqual(before);
    expect(r.leftInFiles).toEqual([
      `${h.root}/etc/bind/db.farm: gallifrey.xivo.vm\tIN\tA\t10.10.60.5`,
      expect.stringMatching(/dhcpd\.conf: host gallifrey\.xivo\.vm\.farm \{/),
      `${h.root}/etc/shorewall/rules: DNAT\t\tnet\t\tloc:$VM_GALLIFREY_XIVO:22\ttcp\t22005\t-\t$IP_FAILOVER`,
      `${h.root}/etc/shorewall/params: VM_GALLIFREY_XIVO=10.10.60.5`,
      expect.stringMatching(/sites-available\/gallifrey\.dachary\.org: server \{/),
    ]);
  });

  it("--dry-run shows the plan and changes nothing", async () => {
    h = harness();
    await h.clone({});
    const after = h.snapshot();
    const mutations = h.runner.mutations().length;
    h.events.length = 0;
    await h.destroy({ name: "gallifrey-dev" }, { dryRun: true });
    expect(h.snapshot()).toEqual(after);
    expect(h.runner.mutations()).toHaveLength(mutations);
    const commands = h.events.flatMap((e) => (e.type === "command" ? [e.argv.join(" ")] : []));
    expect(commands).toEqual(
      expect.arrayContaining([
        "gnt-instance shutdown --timeout=30 gallifrey-dev.xivo.vm.farm",
        "gnt-instance remove --submit --print-jobid -f gallifrey-dev.xivo.vm.farm",
      ]),
    );
    expect(h.events.filter((e) => e.type === "file-diff")).toHaveLength(6);
    expect(h.inventory.get("gallifrey-dev")).not.toBeNull();
  });
});

const STEP_FAULTS: Record<string, Fault> = {
  preflight: fails((a) => a[0] === "gnt-instance" && a[1] === "list"),
  shutdown: fails((a) => a[1] === "shutdown"),
  proxy: fails((a) => a[0] === "reload-proxy"),
  firewall: fails((a) => a[0] === "unshare"),
  dhcp: fails((a) => a[0] === "dhcpd"),
  dns: fails((a) => a[0] === "named-checkzone"),
  "remove-instance": fails((a) => a[1] === "remove"),
};

describe("a destroy failing at each step", () => {
  it("covers every step that can fail on the host", () => {
    expect(Object.keys(STEP_FAULTS)).toEqual(
      destroySteps()
        .map((s) => s.name)
        .filter((n) => n !== "release"),
    );
  });

  for (const [step, fault] of Object.entries(STEP_FAULTS)) {
    it(`at ${step}: the VM is back as it was, running, every file byte-identical`, async () => {
      h = harness();
      await h.clone({});
      const after = h.snapshot();
      const lvs = [...h.runner.lvs.keys()];
      let fired = false;
      h.runner.faults.push((a) => (fired ? undefined : ((fired = Boolean(fault(a))), fault(a))));
      const err = (await h
        .destroy({ name: "gallifrey-dev" })
        .catch((e: unknown) => e)) as FarmError;
      expect(err).toBeInstanceOf(FarmError);
      if (step !== "preflight") expect(err.details?.restored).toBe(true);
      expect(h.snapshot()).toEqual(after);
      expect([...h.runner.lvs.keys()]).toEqual(lvs);
      expect(h.runner.instances.get("gallifrey-dev.xivo.vm.farm")?.status).toBe("running");
      expect(h.inventory.get("gallifrey-dev")?.state).toBe("ready");
    });
  }
});
