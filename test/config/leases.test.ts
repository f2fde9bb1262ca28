// Durations of leases: how they are written, refused, configured ([leases]) and shown.
import { describe, expect, it } from "vitest";
import { formatExpiry } from "../../src/cli/format.js";
import { parseConfig } from "../../src/config/load.js";
import { formatDuration, parseDuration } from "../../src/config/duration.js";
import { leaseMs, leaseRanOut } from "../../src/ops/inventory/lease.js";
import type { FarmError } from "../../src/api/errors.js";

const refusal = (f: () => unknown): FarmError => {
  try {
    f();
  } catch (err) {
    return err as FarmError;
  }
  throw new Error("not refused");
};

describe("durations", () => {
  it("take a whole number and a unit: s, m, h, d, w", () => {
    expect(parseDuration("45s")).toBe(45_000);
    expect(parseDuration("90m")).toBe(90 * 60_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("30d")).toBe(30 * 86_400_000);
    expect(parseDuration("1w")).toBe(7 * 86_400_000);
    expect(parseDuration(" 2h ")).toBe(7_200_000);
  });

  it("refuse anything else with exit 65, saying how to write one", () => {
    const cases: [string, string][] = [
      ["2", 'lease "2" is not a duration (a number needs a unit)'],
      ["2 h", 'lease "2 h" is not a duration'],
      ["1.5h", 'lease "1.5h" is not a duration'],
      ["-1h", 'lease "-1h" is not a duration'],
      ["2y", 'lease "2y" is not a duration'],
      ["", 'lease "" is not a duration'],
      ["0m", 'lease "0m" is zero'],
    ];
    for (const [text, message] of cases) {
      const e = refusal(() => parseDuration(text, "lease"));
      expect(e).toMatchObject({ code: "bad_input", exitCode: 65, message });
    }
    expect(refusal(() => parseDuration("x")).hint).toBe(
      "write it as a whole number with a unit (s, m, h, d or w), like 2h, 90m or 30d",
    );
    // A hostile value is cut short in the message.
    expect(refusal(() => parseDuration("9".repeat(500))).message).toBe(
      `duration "${"9".repeat(40)}..." is not a duration (a number needs a unit)`,
    );
  });

  it("are shown in their largest unit and the next one", () => {
    expect(formatDuration(7_200_000)).toBe("2h");
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(30 * 86_400_000 - 1000)).toBe("29d23h");
    expect(formatDuration(45_000)).toBe("45s");
    expect(formatDuration(61_500)).toBe("1m1s");
    expect(formatDuration(0)).toBe("0s");
  });
});

describe("[leases] in farmd.toml", () => {
  it("defaults to a check every 30 s and leases of at most 30 days", () => {
    expect(parseConfig("", "f").leases).toEqual({
      check_interval: 30_000,
      max: 30 * 86_400_000,
    });
  });

  it("takes durations with a unit", () => {
    const l = parseConfig('[leases]\ncheck_interval = "2m"\nmax = "1w"\n', "f").leases;
    expect(l).toEqual({ check_interval: 120_000, max: 7 * 86_400_000 });
  });

  it("refuses a bad one, naming the key and the range", () => {
    const bad = (toml: string) => () => parseConfig(`[leases]\n${toml}\n`, "/etc/farmd/farmd.toml");
    expect(bad('check_interval = "0s"')).toThrow(
      /leases.check_interval: must be a duration like "30s" \(a number and a unit: s, m, h, d or w\), from 1s to 1h/,
    );
    expect(bad("check_interval = 30")).toThrow(/leases.check_interval: must be a duration/);
    expect(bad('max = "30"')).toThrow(/leases.max: must be a duration like "30d"/);
    expect(bad('max = "10y"')).toThrow(/leases.max/);
    expect(bad('lease = "2h"')).toThrow(/unknown key\(s\) lease/);
  });
});

describe("a lease", () => {
  const config = parseConfig('[leases]\nmax = "12h"\n', "f");

  it("is at most [leases] max", () => {
    expect(leaseMs("12h", config)).toBe(12 * 3_600_000);
    const e = refusal(() => leaseMs("721m", config));
    expect(e.message).toBe("lease 721m is longer than [leases] max (12h)");
    expect(e.hint).toBe(
      "ask for at most 12h and renew it before it ends (farmctl renew), or raise [leases] max in farmd.toml",
    );
  });

  it("has run out at its end, never when its date cannot be read", () => {
    const now = Date.parse("2026-12-02T18:00:00.000Z");
    expect(leaseRanOut("2026-12-02T18:00:00.000Z", now)).toBe(true);
    expect(leaseRanOut("2026-12-02T18:00:00.001Z", now)).toBe(false);
    expect(leaseRanOut(null, now)).toBe(false);
    expect(leaseRanOut("soon", now)).toBe(false);
  });

  it("is shown as the time left and the date", () => {
    const now = Date.parse("2026-12-02T18:00:00.000Z");
    expect(formatExpiry("2026-12-02T19:59:30.250Z", now)).toBe(
      "1h59m left (2026-12-02 19:59:30 UTC)",
    );
    expect(formatExpiry("2026-12-02T17:57:00.000Z", now)).toBe(
      "ran out 3m ago (2026-12-02 17:57:00 UTC)",
    );
    expect(formatExpiry("soon", now)).toBe("soon");
  });
});
