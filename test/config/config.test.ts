import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, parseConfig } from "../../src/config/load.js";
import { sshPorts } from "../../src/config/schema.js";
import { formatSize, parseSize } from "../../src/config/size.js";

describe("farmd.toml", () => {
  it("defaults every key to the seed host's value", () => {
    const c = parseConfig("", "x");
    expect(c.lvm).toEqual({
      vg: "all",
      snapshot_size: "1G",
      thin_pool: "",
      thin_pool_limit: 90,
    });
    expect(c.state_dir).toBeUndefined();
    expect(c.ganeti.node).toBe("host01.farm");
    expect(c.ganeti.monitor_dir).toBe("/var/run/ganeti/kvm-hypervisor/ctrl");
    expect(c.dns.zone_file).toBe("/etc/bind/db.farm");
    expect(c.dns.unit).toBe("bind9.service");
    expect(c.firewall.ssh_port_base).toBe(22000);
    expect(c.firewall.public_address).toBe("$IP_FAILOVER");
    expect(c.network.subnet).toBe("10.10.60.0/24");
    expect(c.balloon.target).toBe("1G");
    expect(c.ganeti.shutdown_timeout).toBe(30);
    expect(c.guest).toMatchObject({ backend: "direct", backend_settings: [], timeout_ms: 600_000 });
    expect(c.guest.cache_dir).toBeUndefined();
    expect(c.guest.identity_timeout).toBe(180);
  });

  it("takes [ganeti] shutdown_timeout in seconds or with a unit", () => {
    const t = (v: string) => parseConfig(`[ganeti]\nshutdown_timeout = ${v}\n`, "f").ganeti;
    expect(t("0").shutdown_timeout).toBe(0);
    expect(t("45").shutdown_timeout).toBe(45);
    expect(t('"90s"').shutdown_timeout).toBe(90);
    expect(t('"2m"').shutdown_timeout).toBe(120);
    expect(t('"1h"').shutdown_timeout).toBe(3600);
    const g = parseConfig('[guest]\nidentity_timeout = "90s"\n', "f").guest;
    expect(g.identity_timeout).toBe(90);
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
    try {
      writeFileSync(join(dir, "f.toml"), '[lvm]\nvg = "xen"\n');
      expect(loadConfig(undefined, { FARMD_CONFIG: join(dir, "f.toml") }).config.lvm.vg).toBe(
        "xen",
      );
      expect(() => loadConfig(join(dir, "missing.toml"), {})).toThrow(/cannot read/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Each bad value, the key the message must name, and what the message must say a good one is.
  const BAD: [string, string, RegExp][] = [
    ['[network]\nsubnet = "10.10.60.0/33"', "network.subnet", /like 10.10.60.0\/24/],
    ['[network]\nsubnet = "10.10.60.7/24"', "network.subnet", /host bits zero/],
    ['[network]\nsubnet = "10.10.60.0/31"', "network.subnet", /\/8 to \/30/],
    ['[network]\nsubnet = "farm"', "network.subnet", /IPv4 network/],
    ['[network]\ngateway = "10.10.61.1"', "network.gateway", /inside \[network\] subnet/],
    ['[network]\ngateway = "10.10.60.0"', "network.gateway", /host address/],
    ['[network]\ngateway = "gw"', "network.gateway", /IPv4 address/],
    ['[names]\ndomain = "vm..farm"', "names.domain", /DNS name like vm.farm/],
    ['[names]\npublic_domain = "Dachary.org"', "names.public_domain", /lowercase DNS name/],
    ['[ganeti]\nnode = "host01 farm"', "ganeti.node", /DNS name/],
    ['[ganeti]\nos = "debootstrap default"', "ganeti.os", /Ganeti OS/],
    ['[ganeti]\nmemory = "0G"', "ganeti.memory", /positive size/],
    ['[ganeti]\nmemory = "1537K"', "ganeti.memory", /whole MiB/],
    ['[ganeti]\nmonitor = "both"', "ganeti.monitor", /hmp/],
    ["[ganeti]\nshutdown_timeout = -1", "ganeti.shutdown_timeout", /whole seconds like 30/],
    ["[ganeti]\nshutdown_timeout = 1.5", "ganeti.shutdown_timeout", /whole seconds/],
    ['[ganeti]\nshutdown_timeout = "2 minutes"', "ganeti.shutdown_timeout", /unit: s, m, h/],
    ['[ganeti]\nshutdown_timeout = "2h"', "ganeti.shutdown_timeout", /at most 3600 s/],
    ['[guest]\nidentity_timeout = "2h"', "guest.identity_timeout", /at most 3600 s/],
    ['[guest]\nidentity_timeout = "soon"', "guest.identity_timeout", /whole seconds like "3m"/],
    ['[ganeti]\nmonitor_dir = "run/ganeti"', "ganeti.monitor_dir", /absolute path/],
    ['[lvm]\nvg = "all vg"', "lvm.vg", /VG name/],
    ['[lvm]\nsnapshot_size = "lots"', "lvm.snapshot_size", /size like/],
    ['[lvm]\nthin_pool = "-pool"', "lvm.thin_pool", /an LV name/],
    ["[lvm]\nthin_pool_limit = 101", "lvm.thin_pool_limit", /100/],
    ['[copy]\nblock_size = "1M count=1"', "copy.block_size", /dd block size/],
    ["[copy]\nionice_class = 4", "copy.ionice_class", /3/],
    ["[copy]\nparallel = 0", "copy.parallel", /1/],
    ['[copy]\nbwlimit = "100 MB/s"', "copy.bwlimit", /size per second like 100M/],
    ['[dns]\nzone = "farm;"', "dns.zone", /DNS name/],
    ["[dns]\nresolve_timeout_ms = -1", "dns.resolve_timeout_ms", /0/],
    ['[dns]\nunit = "bind9; rm -rf /"', "dns.unit", /systemd unit name/],
    ["[dhcp]\nreload = []", "dhcp.reload", /1/],
    ['[dhcp]\nconfig = "/etc/../tmp/dhcpd.conf"', "dhcp.config", /without '..'/],
    ["[firewall]\nssh_port_base = 65300", "firewall.ssh_port_base", /65280/],
    ['[firewall]\nssh_ports = "23000-22000"', "firewall.ssh_ports", /first <= last/],
    ['[firewall]\nssh_ports = "22000-70000"', "firewall.ssh_ports", /1-65535/],
    ['[firewall]\npublic_address = "1.2.3"', "firewall.public_address", /\$IP_FAILOVER/],
    ['[proxy]\nsites_enabled = "sites-enabled"', "proxy.sites_enabled", /absolute path/],
    ['[balloon]\ntarget = "128M"', "balloon.target", /at least \[balloon\] min \(256M\)/],
    ['[balloon]\ntarget = "8G"', "balloon.target", /at most \[ganeti\] memory \(4G\)/],
    ['[balloon]\nmin = "1000K"', "balloon.min", /whole MiB/],
    ['[guest]\nbackend = "direct; rm"', "guest.backend", /libguestfs backend/],
    ['[guest]\nbackend_settings = ["force_tcg:x"]', "guest.backend_settings.0", /force_tcg/],
    ['[guest]\ncache_dir = "guestfs"', "guest.cache_dir", /absolute path/],
    ['socket_group = "Root Users"', "socket_group", /group name/],
    ['templates_dir = "templates"', "templates_dir", /absolute path/],
  ];

  it.each(BAD)("refuses %j, naming %s and the fix", (toml, key, fix) => {
    let message = "";
    try {
      parseConfig(toml + "\n", "/etc/farmd/farmd.toml");
    } catch (err) {
      message = (err as Error).message;
      expect(err).toMatchObject({ exitCode: 78, hint: expect.stringMatching(/farmd.toml\(5\)/) });
    }
    expect(message).toContain(`/etc/farmd/farmd.toml: invalid configuration: ${key}: `);
    expect(message).toMatch(fix);
  });

  it("derives the SSH port range from ssh_port_base unless ssh_ports says", () => {
    expect(sshPorts(parseConfig("", "f").firewall)).toEqual({ first: 22000, last: 22255 });
    const base = parseConfig("[firewall]\nssh_port_base = 30000\n", "f").firewall;
    expect(sshPorts(base)).toEqual({ first: 30000, last: 30255 });
    const range = parseConfig('[firewall]\nssh_ports = "2200-2299"\n', "f").firewall;
    expect(sshPorts(range)).toEqual({ first: 2200, last: 2299 });
  });

  it("farmd refuses to start on a bad value: exit 78, the key and the fix, nothing created", async () => {
    const dir = mkdtempSync(join(tmpdir(), "farmcfg-"));
    try {
      const config = join(dir, "farmd.toml");
      writeFileSync(
        config,
        `state_dir = "${dir}/state"\nsocket = "${dir}/farmd.sock"\n[network]\nsubnet = "10.10.60.0/33"\n`,
      );
      const farmd = new URL("../../dist/daemon/main.js", import.meta.url).pathname;
      const r = await execa("node", [farmd, "--config", config], {
        reject: false,
        timeout: 20_000,
      });
      expect(r.exitCode).toBe(78);
      expect(r.stderr).toMatch(
        /network\.subnet: must be an IPv4 network .* like 10\.10\.60\.0\/24/,
      );
      expect(r.stderr).toMatch(/see farmd\.toml\(5\)/);
      expect(readdirSync(dir)).toEqual(["farmd.toml"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
