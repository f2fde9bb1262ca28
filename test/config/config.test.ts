import { describe, expect, it } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseConfig } from "../../src/config/load.js";
import { formatSize, parseSize } from "../../src/config/size.js";

describe("farmd.toml", () => {
  it("defaults every key to the seed host's value", () => {
    const c = parseConfig("", "x");
    expect(c.lvm).toEqual({ vg: "all", snapshot_size: "1G" });
    expect(c.state_dir).toBeUndefined();
    expect(c.ganeti.node).toBe("host01.farm");
    expect(c.ganeti.monitor_dir).toBe("/var/run/ganeti/kvm-hypervisor/ctrl");
    expect(c.dns.zone_file).toBe("/etc/bind/db.farm");
    expect(c.dns.unit).toBe("bind9.service");
    expect(c.firewall.ssh_port_base).toBe(22000);
    expect(c.firewall.public_address).toBe("$IP_FAILOVER");
    expect(c.network.subnet).toBe("10.10.60.0/24");
    expect(c.balloon.target).toBe("1G");
  });

  it("names the file, the key and the problem", () => {
    expect(() => parseConfig('[dns]\nzone_file = "db.farm"\n', "/etc/farmd/farmd.toml")).toThrow(
      /\/etc\/farmd\/farmd.toml: invalid configuration: dns.zone_file: must be an absolute path/,
    );
    expect(() => parseConfig("[dsn]\n", "f.toml")).toThrow(/unknown key\(s\) dsn/);
    expect(() => parseConfig("[firewall]\nssh_port_base = 'x'\n", "f.toml")).toThrow(
      /firewall.ssh_port_base/,
    );
  });

  it("reports TOML syntax errors with their line", () => {
    expect(() => parseConfig("a = 1\n[dns\n", "f.toml")).toThrow(
      /f.toml \(line 2, column \d+\): not valid TOML/,
    );
  });

  it("accepts reload argv for hosts without systemd", () => {
    const c = parseConfig('[dns]\nreload = ["rndc", "reload", "farm"]\n', "f");
    expect(c.dns.reload).toEqual(["rndc", "reload", "farm"]);
  });

  it("uses FARMD_CONFIG and refuses a missing explicit file", () => {
    const dir = mkdtempSync(join(tmpdir(), "farmcfg-"));
    writeFileSync(join(dir, "f.toml"), '[lvm]\nvg = "xen"\n');
    expect(loadConfig(undefined, { FARMD_CONFIG: join(dir, "f.toml") }).config.lvm.vg).toBe("xen");
    expect(() => loadConfig(join(dir, "missing.toml"), {})).toThrow(/cannot read/);
  });
});

describe("sizes", () => {
  it("parses binary units", () => {
    expect(parseSize("4G")).toBe(4 * 2 ** 30);
    expect(parseSize("4096M")).toBe(4 * 2 ** 30);
    expect(parseSize("1024k")).toBe(2 ** 20);
    expect(parseSize("512b")).toBe(512);
  });
  it("refuses what is not a size", () => {
    for (const bad of ["", "G", "4X", "-1G", "4.5G", "4 G G", "0G"])
      expect(() => parseSize(bad)).toThrow(/not a size|out of range/);
  });
  it("formats with the largest exact unit", () => {
    expect(formatSize(4 * 2 ** 30)).toBe("4G");
    expect(formatSize(1536 * 2 ** 20)).toBe("1536M");
  });
});
