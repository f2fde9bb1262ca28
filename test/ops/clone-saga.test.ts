// The clone saga against host01's files and a simulated LVM/Ganeti: success, dry run, and a failure
// injected at each step, after which every file is byte-identical (the zone's serial aside, which
// only goes up) and every LV made is gone.
import { existsSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { restoreCloneCtx } from "../../src/ops/clone/restore.js";
import { cloneSteps } from "../../src/ops/clone/steps.js";
import type { Fault } from "../fakes/fake-host-runner.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, withoutSerial, zoneSerial, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const failWhen =
  (pred: (argv: readonly string[]) => boolean, stderr = "injected failure\n"): Fault =>
  (argv) =>
    pred(argv) ? { exitCode: 5, stderr } : undefined;
/** A fault that fires once: the undo's own run of the same command then succeeds. */
const once = (fault: Fault): Fault => {
  let fired = false;
  return (argv) => {
    if (fired) return undefined;
    const f = fault(argv);
    if (f) fired = true;
    return f;
  };
};
const is =
  (...prefix: string[]) =>
  (argv: readonly string[]) =>
    prefix.every((p, i) => argv[i] === p);

describe("clone gallifrey gallifrey-dev", () => {
  it("makes the VM the seed's admin made by hand", async () => {
    h = harness();
    const r = await h.clone({});
    expect(r.ip).toBe("10.10.60.6");
    expect(r.sshPort).toBe(22006);
    expect(r.mac).toMatch(/^52:54(:[0-9a-f]{2}){4}$/);
    expect(r.instance).toBe("gallifrey-dev.xivo.vm.farm");
    expect(r.webName).toBe("gallifrey-dev.dachary.org");
    expect(r.balloonReachedBytes).toBe(2 ** 30);
    const files = h.snapshot();
    const at = (p: string) => files.get(`${h.root}/etc/${p}`) ?? "";
    expect(at("bind/db.farm")).toMatch(/gallifrey-dev\.xivo\.vm\tIN\tA\t10\.10\.60\.6\n/);
    expect(at("bind/db.farm")).toMatch(/\b2026\d{4}00\b|\b2011072502\b/);
    expect(at("dhcp/dhcpd.conf")).toContain(
      `hardware ethernet ${r.mac};\n\tfixed-address 10.10.60.6;`,
    );
    expect(at("shorewall/rules")).toMatch(
      /DNAT\t\tnet\t\tloc:\$VM_GALLIFREY_DEV_XIVO:22\ttcp\t22006\t-\t\$IP_FAILOVER/,
    );
    expect(at("shorewall/params")).toContain("VM_GALLIFREY_DEV_XIVO=10.10.60.6\n");
    expect(at("nginx/sites-available/gallifrey-dev.dachary.org")).toContain(
      "proxy_pass   http://gallifrey-dev.xivo.vm.farm;",
    );
    expect(at("nginx/sites-enabled/gallifrey-dev.dachary.org")).toBe(
      `-> ${h.root}/etc/nginx/sites-available/gallifrey-dev.dachary.org`,
    );
    // The disk: same size as the source, copied from a snapshot that no longer exists.
    const inst = h.runner.instances.get("gallifrey-dev.xivo.vm.farm")!;
    expect(inst).toMatchObject({ status: "running", memoryMiB: 4096, mac: r.mac });
    expect(h.runner.lvs.get(inst.lv)?.sizeBytes).toBe(2 ** 30);
    expect([...h.runner.lvs.keys()].filter((n) => n.startsWith("farm-snap-"))).toEqual([]);
    expect([...h.runner.copies.values()][0]).toMatch(/^\/dev\/all\/farm-snap-/);
    expect(h.runner.calls.find((a) => a[0] === "gnt-instance" && a[1] === "add")).toEqual([
      "gnt-instance",
      "add",
      "--submit",
      "--print-jobid",
      "-n",
      "host01.farm",
      "-B",
      "memory=4G",
      "-o",
      "debootstrap+default",
      "-t",
      "plain",
      "--disk",
      "0:adopt=gallifrey-dev",
      "--no-install",
      "--net",
      `0:mac=${r.mac}`,
      "gallifrey-dev.xivo.vm.farm",
    ]);
    expect(h.runner.calls.find((a) => a[0] === "ionice")).toEqual([
      "ionice",
      "-c3",
      "dd",
      expect.stringMatching(/^if=\/dev\/all\/farm-snap-/),
      `of=/dev/all/${h.runner.instances.get("gallifrey-dev.xivo.vm.farm")!.lv}`,
      "bs=1M",
      "oflag=direct",
      "conv=fsync",
      "status=progress",
    ]);
    // Ganeti adopts the empty disk (it refuses an open one); dd then writes it under its new name.
    const callAt = (pred: (a: string[]) => boolean) => h.runner.calls.findIndex(pred);
    expect(callAt((a) => a[0] === "gnt-instance" && a.includes("add"))).toBeLessThan(
      callAt((a) => a[0] === "ionice"),
    );
    expect(h.inventory.get("gallifrey-dev")).toMatchObject({
      state: "ready",
      ip: "10.10.60.6",
      lvUuid: h.runner.lvs.get(inst.lv)!.uuid,
      lvName: inst.lv,
    });
    // The result names the disk as Ganeti renamed it, as `show` does.
    expect(r.lv).toBe(inst.lv);
    expect(r.lv).toMatch(/^[0-9a-f-]{36}\.disk0$/);
    expect(h.events.some((e) => e.type === "copy-progress")).toBe(true);
  });

  it("--dry-run runs only queries and shows every command and diff", async () => {
    h = harness();
    const before = h.snapshot();
    const r = await h.clone({}, { dryRun: true });
    expect(r.ip).toBe("10.10.60.6");
    expect(h.runner.mutations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(h.inventory.list()).toEqual([]);
    const commands = h.events.flatMap((e) => (e.type === "command" ? [e.argv.join(" ")] : []));
    expect(commands).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^lvcreate --snapshot --size 1073741824b --name farm-snap-(\w+) --addtag farmd_op_\1 \/dev\/all\/5901b76b/,
        ),
        expect.stringMatching(
          /^lvcreate --yes --size 1073741824b --name gallifrey-dev --addtag farmd_op_\w+ all$/,
        ),
        expect.stringMatching(
          /^ionice -c3 dd if=\/dev\/all\/farm-snap-\w+ of=\/dev\/all\/gallifrey-dev bs=1M oflag=direct conv=fsync status=progress$/,
        ),
        expect.stringMatching(/^lvremove -f all\/farm-snap-/),
        "reload-dns",
        "reload-dhcp",
        "reload-firewall",
        "reload-proxy",
        expect.stringMatching(
          /^gnt-instance add --submit --print-jobid .* gallifrey-dev\.xivo\.vm\.farm$/,
        ),
        "gnt-instance start gallifrey-dev.xivo.vm.farm",
      ]),
    );
    const all = h.events.flatMap((e) => (e.type === "file-diff" ? [e] : []));
    // The guest's changes are shown, never made: the new disk exists only in the plan.
    expect(h.guest.opened).toEqual([]);
    const guest = all.filter((d) => d.path.startsWith("guest:"));
    expect(guest.map((d) => d.path)).toContain("guest:/etc/hostname");
    expect(guest.find((d) => d.path === "guest:/etc/hosts")!.diff).toContain(
      "+127.0.1.1\tgallifrey-dev.xivo.vm.farm gallifrey-dev",
    );
    const diffs = all.filter((d) => !d.path.startsWith("guest:"));
    expect(diffs.map((d) => d.path.slice(h.root.length))).toEqual([
      "/etc/bind/db.farm",
      "/etc/dhcp/dhcpd.conf",
      "/etc/shorewall/params",
      "/etc/shorewall/rules",
      "/etc/nginx/sites-available/gallifrey-dev.dachary.org",
      "/etc/nginx/sites-enabled/gallifrey-dev.dachary.org",
    ]);
    expect(diffs[0]!.diff).toContain("+gallifrey-dev.xivo.vm\tIN\tA\t10.10.60.6");
  });

  it("refuses bad input before changing anything (exit 65)", async () => {
    for (const [req, message] of [
      [{ name: "Gallifrey_Dev" }, /not a valid name/],
      [{ name: "gallifrey" }, /already exists|both/],
      [{ source: "tardis" }, /not a Ganeti instance/],
      [{ ip: "10.10.60.5" }, /already in use/],
      [{ ip: "10.10.61.9" }, /outside the farm subnet/],
      [{ mac: "00:16:3e:00:00:01" }, /not a 52:54 MAC/],
      [{ memory: "4X" }, /not a size/],
      [{ bwlimit: "fast" }, /--bwlimit 'fast' is not a size/],
    ] as const) {
      h = harness();
      const before = h.snapshot();
      const err = await h.clone(req).catch((e: FarmError) => e);
      expect(err, JSON.stringify(req)).toBeInstanceOf(FarmError);
      expect((err as FarmError).message).toMatch(message);
      expect((err as FarmError).exitCode).toBe(65);
      expect(h.runner.mutations()).toEqual([]);
      expect(h.snapshot()).toEqual(before);
      h.cleanup();
    }
    h = harness();
  });
});

describe("the source", () => {
  it("asks for --group when the short name exists in several groups", async () => {
    h = harness();
    const other = {
      ...h.runner.instances.get("gallifrey.xivo.vm.farm")!,
      name: "gallifrey.other.vm.farm",
      mac: "52:54:00:00:00:01",
    };
    h.runner.instances.set(other.name, other);
    const err = await failure(h.clone({}));
    expect(err.message).toBe(
      "source VM 'gallifrey' exists in several groups: gallifrey.other.vm.farm, gallifrey.xivo.vm.farm",
    );
    expect(err.hint).toBe("say which one with --group");
    expect((await h.clone({ group: "xivo" })).instance).toBe("gallifrey-dev.xivo.vm.farm");
  });

  it("puts the new VM in another group when asked, cloning the one source", async () => {
    h = harness();
    const r = await h.clone({ group: "qa" });
    expect(r.instance).toBe("gallifrey-dev.qa.vm.farm");
    expect(r.source).toBe("gallifrey.xivo.vm.farm");
  });
});

const STEP_FAULTS: Record<string, Fault | "monitor" | "record" | "guest" | "identity"> = {
  preflight: failWhen(is("gnt-instance", "list")),
  allocate: "record", // handled below: an address already taken
  snapshot: failWhen((a) => a[0] === "lvcreate" && a.includes("--snapshot")),
  "create-lv": failWhen((a) => a[0] === "lvcreate" && !a.includes("--snapshot")),
  copy: failWhen(
    is("ionice"),
    "dd: error writing '/dev/all/gallifrey-dev': No space left on device\n",
  ),
  "drop-snapshot": once(failWhen((a) => a[0] === "lvremove" && a.at(-1)!.includes("farm-snap-"))),
  customize: "guest", // guestfish fails halfway through the edits
  // The reload fails after the zone is in place: the undo must restore it and reload again.
  dns: once(
    failWhen(is("reload-dns"), "rndc: connect failed: 127.0.0.1#953: connection refused\n"),
  ),
  dhcp: failWhen(
    is("dhcpd"),
    "/etc/dhcp/dhcpd.conf line 24: expecting a parameter or declaration\n",
  ),
  adopt: failWhen(is("gnt-instance", "add")),
  firewall: failWhen(
    is("unshare"),
    "   ERROR: Invalid port/service (22006x) : /etc/shorewall/rules (line 25)\n",
  ),
  start: failWhen(is("gnt-instance", "start")),
  balloon: "monitor",
  // Only recording what the console showed can fail the identity step (a timeout is a warning).
  identity: "identity",
  proxy: failWhen(is("nginx"), "nginx: [emerg] host not found in upstream\n"),
  record: "record",
};

describe("a resumed clone's result", () => {
  it("reports the copy's rate and throttle and the adopted disk's name from the journal", async () => {
    h = harness();
    const r = await h.clone({});
    expect(r.copy).toMatchObject({
      bytes: expect.any(Number),
      rateBytesPerSec: expect.any(Number),
    });
    const restored = restoreCloneCtx(r.opId, {} as never, h.deps(), h.journal.steps(r.opId));
    expect(restored.copy).toEqual(r.copy);
    expect(restored.adoptedLvName).toBe(r.lv);
  });
});

describe("undo without a recorded UUID", () => {
  it("removes the snapshot named after this operation, and nothing else", async () => {
    h = harness();
    const lvsBefore = [...h.runner.lvs.keys()];
    // lvcreate --snapshot works, but reading it back (its UUID) fails once.
    h.runner.faults.push(
      once(
        failWhen(
          (a) => a[0] === "lvs" && [...h.runner.lvs.keys()].some((n) => n.startsWith("farm-snap-")),
        ),
      ),
    );
    const err = await failure(h.clone({}));
    expect(err.details?.step).toBe("snapshot");
    expect(err.details?.restored).toBe(true);
    expect([...h.runner.lvs.keys()]).toEqual(lvsBefore);
  });
});

describe("the nginx site", () => {
  it("is checked in a private copy before it is written or linked; a refused one leaves nothing", async () => {
    h = harness();
    const before = h.snapshot();
    const etc = join(h.root, "etc/nginx");
    const name = "gallifrey-dev.dachary.org";
    const seen: { live: boolean; copy: string; linkInCopy: string }[] = [];
    h.runner.faults.push((argv) => {
      if (argv[0] !== "nginx") return undefined;
      const copy = dirname(argv[argv.indexOf("-c") + 1]!);
      seen.push({
        live: ["sites-available", "sites-enabled"].some((d) => existsSync(join(etc, d, name))),
        copy,
        linkInCopy: readlinkSync(join(copy, "sites-enabled", name)),
      });
      const where = `${copy}/sites-enabled/${name}:8`;
      return { exitCode: 1, stderr: `nginx: [emerg] host not found in upstream in ${where}\n` };
    });
    const err = await failure(h.clone({}));
    expect(seen).toEqual([
      {
        live: false,
        copy: expect.not.stringContaining(etc),
        linkInCopy: join(seen[0]!.copy, "sites-available", name),
      },
    ]);
    expect(existsSync(seen[0]!.copy)).toBe(false);
    expect(err.details?.step).toBe("proxy");
    // nginx's message names the file as it would be on the host, not the copy
    expect(JSON.stringify(err)).toContain(`in ${etc}/sites-enabled/${name}:8`);
    expect(JSON.stringify(err)).not.toContain(seen[0]!.copy);
    expect(h.runner.calls.filter((a) => a[0] === "reload-proxy")).toEqual([]);
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
  });
});

describe("a failure at each step", () => {
  it("covers every step of the clone", () => {
    expect(Object.keys(STEP_FAULTS).sort()).toEqual(
      cloneSteps()
        .map((s) => s.name)
        .sort(),
    );
  });

  for (const [step, fault] of Object.entries(STEP_FAULTS)) {
    it(`at ${step}: rolls back, files byte-identical (serial aside), no LV or instance left`, async () => {
      h = harness();
      const before = h.snapshot();
      const lvsBefore = [...h.runner.lvs.keys()];
      // The serial the DNS step wrote (and bind was asked to serve), seen when it reloads.
      let served: number | undefined;
      h.runner.faults.push((argv) => {
        if (argv[0] === "reload-dns" && served === undefined) served = zoneSerial(h.snapshot());
        return undefined;
      });
      let req = {};
      if (typeof fault === "function") h.runner.faults.push(fault);
      else if (fault === "guest") h.guest.failAt = 3;
      else if (fault === "monitor")
        h.monitor.balloonAndWait = async () => {
          throw new FarmError("unavailable", "monitor socket missing", 69);
        };
      else if (step === "allocate") req = { ip: "10.10.60.1" };
      else if (fault === "identity")
        h.inventory.recordGuest = () => {
          throw new Error("disk full");
        };
      else {
        const update = h.inventory.update.bind(h.inventory);
        h.inventory.update = (name, fields) => {
          if (fields.state === "ready") throw new Error("disk full");
          update(name, fields);
        };
      }
      const err = (await h.clone(req).catch((e: unknown) => e)) as FarmError;
      expect(err).toBeInstanceOf(FarmError);
      if (step === "preflight" || step === "allocate") {
        // Nothing changed: the cause itself, with its own exit code.
        expect(err.code).not.toBe("operation_failed");
      } else {
        expect(err.details?.step).toBe(step);
        expect(err.details?.restored).toBe(true);
        expect(err.exitCode).toBe(1);
      }
      expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
      // Undone after the zone was written: its records come back, its serial goes above the one served.
      // The DNS step starts with the disk's first step (it needs only the allocation).
      const beforeDns = ["preflight", "allocate"];
      expect(served === undefined).toBe(beforeDns.includes(step));
      if (served === undefined) expect(h.snapshot()).toEqual(before);
      else expect(zoneSerial(h.snapshot())).toBeGreaterThan(served);
      expect([...h.runner.lvs.keys()]).toEqual(lvsBefore);
      expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
      expect(h.inventory.list()).toEqual([]);
      const op = h.journal.operation(h.journal.latestId()!);
      expect(op?.state).toBe(
        step === "preflight" || step === "allocate" ? "failed" : "rolled-back",
      );
    });
  }
});
