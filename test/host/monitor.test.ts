// HMP junk stripping and parsing, QMP stream parsing, on bytes recorded from a real QEMU 7.2
// (test/recordings/qemu-7.2-*, captured by test/testbed/guest/capture-qemu-recordings.sh).
import { describe, expect, it } from "vitest";
import { OperationFailed } from "../../src/api/errors.js";
import { MiB, parseBalloonReply, parseInfoBalloon, stripHmpJunk } from "../../src/host/hmp.js";
import { balloonActual, isEvent, parseQmpStream, toReply } from "../../src/host/qmp.js";
import { recording, splitHmp } from "../fakes/fake-qemu-monitor.js";

describe("HMP replies recorded from QEMU 7.2", () => {
  const cases: [string, string][] = [
    ["qemu-7.2-hmp-info-balloon.txt", "balloon: actual=512"],
    ["qemu-7.2-hmp-info-balloon-256.txt", "balloon: actual=256"],
    ["qemu-7.2-hmp-info-balloon-paused.txt", "balloon: actual=512"],
    ["qemu-7.2-hmp-balloon.txt", ""],
    ["qemu-7.2-hmp-balloon-paused.txt", ""],
    ["qemu-7.2-hmp-balloon-no-device.txt", "Error: No balloon device has been activated"],
    ["qemu-7.2-hmp-info-balloon-no-device.txt", "Error: No balloon device has been activated"],
    ["qemu-7.2-hmp-unknown-command.txt", "unknown command: 'info ballon'"],
  ];
  it.each(cases)("strips banner, prompt, echo and escapes from %s", (file, clean) => {
    const raw = recording(file);
    expect(raw).toContain("\x1b[K\x1b[D"); // the recording really holds the terminal junk
    expect(stripHmpJunk(raw)).toBe(clean);
    expect(stripHmpJunk(splitHmp(raw).reply)).toBe(clean);
  });

  it("parses info balloon to bytes", () => {
    expect(parseInfoBalloon(stripHmpJunk(recording("qemu-7.2-hmp-info-balloon.txt")))).toBe(
      512 * MiB,
    );
    expect(parseInfoBalloon(stripHmpJunk(recording("qemu-7.2-hmp-info-balloon-256.txt")))).toBe(
      256 * MiB,
    );
    expect(parseInfoBalloon("balloon: actual=1024 max_mem=4096")).toBe(1024 * MiB);
  });

  it("reads 'No balloon device has been activated' as no balloon", () => {
    const text = stripHmpJunk(recording("qemu-7.2-hmp-info-balloon-no-device.txt"));
    expect(parseInfoBalloon(text)).toBeNull();
    expect(parseBalloonReply(stripHmpJunk(recording("qemu-7.2-hmp-balloon-no-device.txt")))).toBe(
      false,
    );
    expect(parseBalloonReply(stripHmpJunk(recording("qemu-7.2-hmp-balloon.txt")))).toBe(true);
  });

  it("refuses a reply it does not understand", () => {
    const text = stripHmpJunk(recording("qemu-7.2-hmp-unknown-command.txt"));
    expect(() => parseInfoBalloon(text)).toThrow(OperationFailed);
    expect(() => parseBalloonReply(text)).toThrow(/unknown command/);
  });
});

describe("QMP streams recorded from QEMU 7.2", () => {
  it("splits the stream into messages and tells events from replies", () => {
    const msgs = parseQmpStream(recording("qemu-7.2-qmp-balloon.txt"));
    expect(msgs[0]).toHaveProperty("QMP.version.qemu.major", 7);
    const events = msgs.filter(isEvent);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.event === "BALLOON_CHANGE" && toReply(e) === undefined)).toBe(
      true,
    );
    const replies = msgs.filter((m) => !isEvent(m) && !("QMP" in m)).map(toReply);
    expect(replies.map((r) => r?.ok)).toEqual([true, true, true, true]);
    const last = replies.at(-1);
    expect(last?.ok && balloonActual(last.value)).toBe(384 * MiB);
  });

  it("maps DeviceNotActive and other errors", () => {
    const noDev = parseQmpStream(recording("qemu-7.2-qmp-balloon-no-device.txt")).map(toReply);
    expect(noDev[2]).toEqual({
      ok: false,
      errorClass: "DeviceNotActive",
      desc: "No balloon device has been activated",
    });
    const errs = parseQmpStream(recording("qemu-7.2-qmp-errors.txt")).map(toReply);
    expect(errs[2]).toMatchObject({ ok: false, errorClass: "CommandNotFound" });
  });

  it("rejects a stream that is not QMP, such as an HMP socket", () => {
    expect(() => parseQmpStream(recording("qemu-7.2-hmp-info-balloon.txt"))).toThrow(
      /not a QMP message/,
    );
    expect(() => balloonActual({})).toThrow(OperationFailed);
  });
});
