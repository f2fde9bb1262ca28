// The identity step: the clone reads its guest's console from the moment it starts, learns the
// first-boot host keys and machine-id, and keeps them in the result, the inventory and `show`.
// The parser is test/fakes/firstboot.ts, a stand-in for h-customize's behind the same signature.
import { afterEach, describe, expect, it } from "vitest";
import { Unavailable } from "../../src/api/errors.js";
import { checkedIdentity } from "../../src/ops/clone/identity.js";
import { showVm } from "../../src/ops/inventory/view.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const INSTANCE = "gallifrey-dev.xivo.vm.farm";
const KEYS = [
  {
    bits: 256,
    fingerprint: "SHA256:Ag+vWBL2lSCooN5gxkZB6ypgGMuTVusP2SpC7p9ODj4",
    comment: "root@vm",
    type: "ECDSA",
  },
  {
    bits: 256,
    fingerprint: "SHA256:LQynFYNCzMaUiRTdQRYIuxAUsJJAAbgHYXf4ka8mO/o",
    comment: "root@vm",
    type: "ED25519",
  },
  {
    bits: 3072,
    fingerprint: "SHA256:E+EMi7hN4Rs4mtppIjXGuhGmvUm1P5yEWNv1qM7qFqw",
    comment: "root@vm",
    type: "RSA",
  },
];
const GUEST = { hostname: "vm", machineId: "7e0b6b73a97347c4b8fdd04224408168", sshHostKeys: KEYS };

const warnings = () => h.events.flatMap((e) => (e.type === "warning" ? [e.message] : []));

describe("the identity step", () => {
  it("learns the first-boot host keys and machine-id: result, inventory and show", async () => {
    h = harness();
    const r = await h.clone({});
    expect(r.guest).toMatchObject(GUEST);
    expect(r.warnings).toEqual([]);
    expect(h.console.calls).toEqual([{ instance: INSTANCE, timeoutMs: 180_000 }]);
    expect(h.events).toContainEqual({
      type: "info",
      message: expect.stringMatching(
        /^the guest printed its 3 host keys \d+\.\d s after it started$/,
      ),
    });
    expect(h.inventory.get("gallifrey-dev")).toMatchObject(GUEST);
    const d = await showVm(h.deps(), "gallifrey-dev");
    expect(d.vm).toMatchObject({ hostname: "vm", machineId: GUEST.machineId });
    expect(d.sshHostKeys).toEqual(KEYS);
    // The hand-made source was never read: nothing is known of it.
    const src = await showVm(h.deps(), "gallifrey");
    expect([src.vm.hostname, src.vm.machineId, src.sshHostKeys]).toEqual([null, null, null]);
  });

  it("starts reading when the instance starts, before the balloon wait", async () => {
    h = harness();
    let readsAtBalloon = -1;
    const balloon = h.monitor.balloonAndWait.bind(h.monitor);
    h.monitor.balloonAndWait = (...a) => {
      readsAtBalloon = h.console.calls.length;
      return balloon(...a);
    };
    await h.clone({});
    expect(readsAtBalloon).toBe(1);
  });

  it("warns, and the clone succeeds, when no first-boot block shows in [guest] identity_timeout", async () => {
    h = harness('[guest]\nidentity_timeout = "30s"\n');
    h.console.printed.set(INSTANCE, "GUEST-READY\r\nSTATUS ip=none\r\n");
    const r = await h.clone({});
    const warning = `the guest of ${INSTANCE} printed no first-boot block within 30 s ([guest] identity_timeout); its host keys are unknown`;
    expect(r.guest).toMatchObject({ machineId: null, sshHostKeys: null });
    expect(r.warnings).toEqual([warning]);
    expect(warnings()).toEqual([warning]);
    expect(h.console.calls).toEqual([{ instance: INSTANCE, timeoutMs: 30_000 }]);
    expect(h.inventory.get("gallifrey-dev")).toMatchObject({
      state: "ready",
      hostname: null,
      machineId: null,
      sshHostKeys: null,
    });
    expect((await showVm(h.deps(), "gallifrey-dev")).sshHostKeys).toBeNull();
  });

  it("warns when the console cannot be read", async () => {
    h = harness();
    h.console.readUntil = async () => {
      throw new Unavailable("no permission to open x.serial", "run farmd as root");
    };
    const r = await h.clone({});
    expect(r.guest).toMatchObject({ machineId: null, sshHostKeys: null });
    expect(r.warnings).toEqual([
      `cannot read the console of ${INSTANCE}: no permission to open x.serial; its host keys are unknown`,
    ]);
  });

  it("reads nothing for a clone left stopped, nor in a dry run", async () => {
    h = harness();
    expect((await h.clone({ start: false })).guest?.sshHostKeys).toBeNull();
    expect(
      (await h.clone({ name: "gallifrey-try" }, { dryRun: true })).guest?.sshHostKeys,
    ).toBeNull();
    expect(h.console.calls).toEqual([]);
  });
});

describe("what the guest printed", () => {
  it("reaches the inventory only in well-formed values: no escape sequence, no odd machine-id", () => {
    const evil = {
      bits: 256,
      fingerprint: "SHA256:LQynFYNCzMaUiRTdQRYIuxAUsJJAAbgHYXf4ka8mO/o",
      comment: "root@x\u001b]2;pwned\u0007",
      type: "ED25519",
    };
    const odd = { ...KEYS[0]!, fingerprint: "SHA256:short" };
    expect(
      checkedIdentity({
        machineId: "not-hex",
        keys: [evil, odd, { ...KEYS[2]!, extra: 1 } as never],
      }),
    ).toEqual({ hostname: "vm", machineId: null, sshHostKeys: [KEYS[2]] });
  });
});
