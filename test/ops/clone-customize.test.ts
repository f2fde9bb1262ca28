// The customize step in the clone saga, with libguestfs simulated (test/fakes/fake-guest.ts): what
// the guest holds after, the skips, a missing --var refused at preflight, and the rollback.
import { afterEach, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { customizeStep } from "../../src/ops/clone/customize.js";
import { restoreCloneCtx } from "../../src/ops/clone/restore.js";
import type { CloneCtx } from "../../src/ops/clone/steps.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const NEW_LV = "/dev/all/gallifrey-dev";
/** The new disk once Ganeti adopted it (<uuid>.disk0), where customize finds it by its UUID. */
const adopted = () => `/dev/all/${h.runner.instances.get("gallifrey-dev.xivo.vm.farm")!.lv}`;
const PF = `[guest.files."/etc/packaging-farm/packaging-farm.conf"]
template = "packaging-farm.conf.njk"
`;
const content = (path: string) => {
  const node = h.guest.disks.get(adopted())!.get(path);
  return node?.kind === "file" ? node.content : node;
};

describe("customize", () => {
  it("makes the clone's guest its own, on the new LV only, after the copy, before the start", async () => {
    h = harness(PF);
    const r = await h.clone({ vars: { git_revision: "xivo-1.2" } });
    // hostname, machineId and sshHostKeys are what the first boot printed (clone-identity.test.ts).
    expect(r.guest).toMatchObject({
      operations: ["hostname", "machine-id", "ssh-host-keys", "net-state", "files"],
      skipped: null,
      files: ["/etc/packaging-farm/packaging-farm.conf"],
    });
    expect(h.guest.opened).toEqual([adopted()]);
    expect(h.guest.open_sessions).toBe(0);
    expect(content("/etc/hostname")).toBe("gallifrey-dev\n");
    expect(content("/etc/hosts")).toContain(
      "127.0.0.1\tlocalhost\n127.0.1.1\tgallifrey-dev.xivo.vm.farm gallifrey-dev\n\n# The following",
    );
    expect(content("/etc/machine-id")).toBe("");
    expect(content("/var/lib/dbus/machine-id")).toBeUndefined();
    const paths = [...h.guest.disks.get(adopted())!.keys()];
    expect(paths.filter((p) => p.startsWith("/etc/ssh/ssh_host_"))).toEqual([]);
    expect(paths.filter((p) => /udev|dhcp/.test(p))).toEqual([]);
    expect(content("/etc/ssh/sshd_config")).toBe("Include /etc/ssh/sshd_config.d/*.conf\n");
    expect(content("/etc/systemd/system/multi-user.target.wants/farm-firstboot.service")).toEqual({
      kind: "symlink",
      target: "/etc/systemd/system/farm-firstboot.service",
    });
    expect(content("/etc/packaging-farm/packaging-farm.conf")).toContain(
      "FARM_IP='10.10.60.6'\nFARM_MAC='" + r.mac + "'\n",
    );
    expect(content("/etc/packaging-farm/packaging-farm.conf")).toContain(
      "GIT_REVISION='xivo-1.2'\n",
    );
    // On the disk branch: once the copy wrote the adopted disk, before the instance starts.
    const order = h.events.flatMap((e) =>
      e.type === "step-start" || e.type === "step-done" ? [`${e.type} ${e.step}`] : [],
    );
    const at = (what: string) => order.indexOf(what);
    expect(at("step-done adopt")).toBeLessThan(at("step-start copy"));
    expect(at("step-done copy")).toBeLessThan(at("step-start customize"));
    expect(at("step-done customize")).toBeLessThan(at("step-start start"));
    // The PID of the process holding the LV is journaled, for a crash's undo.
    const step = h.journal.steps(r.opId).find((s) => s.name === "customize")!;
    expect(step.data).toMatchObject({ pid: h.guest.pid, device: adopted() });
    // A resumed or recovered clone reports the same from the journal.
    const restored = restoreCloneCtx(r.opId, {} as never, h.deps(), h.journal.steps(r.opId));
    expect(restored.guest).toEqual(r.guest);
  });

  it("a disk without Linux is a warning, and the clone goes on", async () => {
    h = harness();
    h.guest.disks.clear();
    const r = await h.clone({});
    const warning =
      "gallifrey has no Linux filesystem libguestfs recognises; the guest is not customized";
    expect(r.warnings).toEqual([warning]);
    expect(h.events).toContainEqual({ type: "warning", message: warning });
    expect(r.guest).toMatchObject({ operations: [], skipped: "no Linux filesystem found" });
    expect(h.guest.open_sessions).toBe(0);
  });

  it("a farmd without a libguestfs adapter warns and goes on", async () => {
    h = harness("", { withGuest: false });
    const r = await h.clone({});
    expect(r.warnings).toEqual([
      "this farmd has no libguestfs adapter; gallifrey-dev's guest is not customized",
    ]);
    expect(r.guest).toMatchObject({ operations: [], skipped: "no libguestfs adapter" });
  });

  it("--no-customize never opens the disk", async () => {
    h = harness();
    const r = await h.clone({ customize: false });
    expect(h.guest.opened).toEqual([]);
    expect(r.guest).toMatchObject({ operations: [], skipped: "--no-customize" });
    expect(h.guest.disks.get(adopted())!.get("/etc/hostname")).toMatchObject({
      content: "gallifrey\n",
    });
  });

  it("a template's variable not given fails at preflight, naming both, before any change", async () => {
    h = harness(PF);
    const before = h.snapshot();
    const err = (await h.clone({}).catch((e: unknown) => e)) as FarmError;
    expect(err.code).toBe("bad_input");
    expect(err.exitCode).toBe(65);
    expect(err.message).toBe(
      "guest template packaging-farm.conf.njk uses vars.git_revision, which this clone was not given",
    );
    expect(h.runner.calls.filter((c) => c[0] === "lvcreate")).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(h.journal.operation(h.journal.latestId()!)?.state).toBe("failed");
  });

  it("a bad --var is refused at preflight (exit 65, the field named)", async () => {
    h = harness();
    const err = (await h.clone({ vars: { x: "a\nb" } }).catch((e: unknown) => e)) as FarmError;
    expect(err.exitCode).toBe(65);
    expect(err.details?.field).toBe("request.vars.x");
    expect(h.guest.opened).toEqual([]);
  });

  it("a failure halfway through the edits rolls the clone back and closes the session", async () => {
    h = harness();
    h.guest.failAt = 3;
    const lvs = [...h.runner.lvs.keys()];
    const err = (await h.clone({}).catch((e: unknown) => e)) as FarmError;
    expect(err.details).toMatchObject({ step: "customize", restored: true });
    expect(err.exitCode).toBe(1);
    expect(h.guest.open_sessions).toBe(0);
    expect([...h.runner.lvs.keys()]).toEqual(lvs);
    expect(h.inventory.list()).toEqual([]);
  });

  it("keeps apply's error when close fails too; a close failing alone fails the step", async () => {
    h = harness();
    h.guest.failAt = 0;
    h.guest.failClose = true;
    const err = (await h.clone({}).catch((e: unknown) => e)) as FarmError;
    expect(err.message).toContain("guestfish: write /etc/hostname: injected failure");
    h.cleanup();
    h = harness();
    h.guest.failClose = true;
    const sync = (await h.clone({}).catch((e: unknown) => e)) as FarmError;
    expect(sync.message).toContain("umount-all: injected failure");
    expect(sync.details).toMatchObject({ step: "customize", restored: true });
  });

  it("the dry run plans the files it would write, and writes none", async () => {
    h = harness(PF);
    const r = await h.clone({ vars: { git_revision: "master" } }, { dryRun: true });
    expect(h.guest.opened).toEqual([]);
    expect(r.guest?.files).toEqual(["/etc/packaging-farm/packaging-farm.conf"]);
    const conf = h.events.find(
      (e) => e.type === "file-diff" && e.path === "guest:/etc/packaging-farm/packaging-farm.conf",
    );
    expect(conf).toMatchObject({ diff: expect.stringContaining("+GIT_REVISION='master'\n") });
  });
});

describe("customize's undo", () => {
  const ctx = (calls: unknown[]) =>
    ({
      deps: {
        processes: {
          killLeftover: async (...a: unknown[]) => {
            calls.push(a);
            return true;
          },
        },
      },
    }) as unknown as CloneCtx;
  const handle = (data: Record<string, unknown>) => ({ data, record() {}, acted() {} });

  it("stops the journaled guestfish only while it still holds the new LV", async () => {
    const calls: unknown[] = [];
    await customizeStep.undo!(ctx(calls), handle({ pid: 4242, device: NEW_LV }));
    expect(calls).toEqual([[4242, [NEW_LV]]]);
  });

  it("does nothing when no PID was journaled", async () => {
    const calls: unknown[] = [];
    await customizeStep.undo!(ctx(calls), handle({}));
    expect(calls).toEqual([]);
  });
});
