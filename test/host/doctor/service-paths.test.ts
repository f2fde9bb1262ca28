// The paths farmd.toml names against what the services load: bind's zone file (named-checkconf -p),
// dhcpd's -cf, shorewall's CONFIG_PATH, nginx -T's includes; each wrong one fails with the right path.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  checkDhcpdPath,
  checkNginxPaths,
  checkShorewallPath,
  checkZonePath,
  dhcpdConfigOf,
  namedZoneFiles,
  nginxIncludes,
  runningDhcpd,
  shorewallConfigPath,
} from "../../../src/host/doctor/service-paths.js";
import { recording, ScriptedRunner } from "../../fakes/scripted-runner.js";

const dir = mkdtempSync(join(tmpdir(), "farm-doctor-paths-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text = "") => {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
};
const PRINT = ["named-checkconf", "-p"];
const named = (text = recording("named-checkconf-9.18.49-print.txt")) => ({
  argv: PRINT,
  stdout: text,
});

describe("[dns] zone_file", () => {
  it("reads the zone's file from named-checkconf -p", () => {
    expect(namedZoneFiles(recording("named-checkconf-9.18.49-print.txt"))).toEqual(
      new Map([["farm", "/etc/bind/db.farm"]]),
    );
  });

  it("a relative file is under named's directory", () => {
    const conf = `options {\n\tdirectory "/var/cache/bind";\n};\nzone "farm" {\n\ttype master;\n\tfile "db.farm";\n};\n`;
    expect(namedZoneFiles(conf).get("farm")).toBe("/var/cache/bind/db.farm");
  });

  it("is ok when named loads the zone from it", async () => {
    const zone = file("bind/db.farm");
    const printed = recording("named-checkconf-9.18.49-print.txt").replace(
      "/etc/bind/db.farm",
      zone,
    );
    const runner = new ScriptedRunner([named(printed)]);
    const c = await checkZonePath(runner, "farm", zone);
    runner.assertDone();
    expect(c).toEqual({
      id: "path [dns] zone_file",
      status: "ok",
      detail: `${zone} (named's zone 'farm')`,
    });
  });

  it("a zone file that does not exist fails with the file named loads", async () => {
    const runner = new ScriptedRunner([named()]);
    const c = await checkZonePath(runner, "farm", join(dir, "bind/db.wrong"));
    expect(c.status).toBe("fail");
    expect(c.detail).toBe(`${join(dir, "bind/db.wrong")} does not exist`);
    expect(c.fix).toContain("(named.conf says /etc/bind/db.farm)");
  });

  it("another file than named's fails with named's", async () => {
    const other = file("bind/db.other");
    const runner = new ScriptedRunner([named()]);
    const c = await checkZonePath(runner, "farm", other);
    expect(c.status).toBe("fail");
    expect(c.detail).toBe(`named loads zone 'farm' from /etc/bind/db.farm, not ${other}`);
    expect(c.fix).toBe('set [dns] zone_file = "/etc/bind/db.farm" in farmd.toml');
  });

  it("a zone named does not serve fails", async () => {
    const zone = file("bind/db.farm");
    const c = await checkZonePath(new ScriptedRunner([named()]), "lab", zone);
    expect(c.detail).toBe("named.conf has no zone 'lab'");
  });
});

describe("[dhcp] config", () => {
  it("is dhcpd's -cf, else its default", () => {
    expect(dhcpdConfigOf(["dhcpd", "-4", "-q", "-cf", "/etc/dhcp/x.conf", "br0"])).toBe(
      "/etc/dhcp/x.conf",
    );
    expect(dhcpdConfigOf(["/usr/sbin/dhcpd", "-4", "br0"])).toBe("/etc/dhcp/dhcpd.conf");
  });

  it("is ok when the running dhcpd reads it, fails naming the one it reads otherwise", () => {
    const conf = file("dhcp/dhcpd.conf");
    expect(checkDhcpdPath(conf, [["dhcpd", "-cf", conf]]).status).toBe("ok");
    const c = checkDhcpdPath(conf, [["dhcpd", "-cf", "/etc/dhcp/other.conf"]]);
    expect(c).toMatchObject({
      status: "fail",
      detail: `dhcpd runs with /etc/dhcp/other.conf, not ${conf}`,
      fix: 'set [dhcp] config = "/etc/dhcp/other.conf" in farmd.toml',
    });
  });

  it("finds the dhcpd running in this network namespace only (a testbed's is not the host's)", () => {
    const proc = join(dir, "proc");
    const pid = (name: string, net: string, argv?: string[]) => {
      mkdirSync(join(proc, name, "ns"), { recursive: true });
      symlinkSync(net, join(proc, name, "ns", "net"));
      if (argv) writeFileSync(join(proc, name, "cmdline"), argv.join("\0") + "\0");
    };
    pid("self", "net:[4026531840]");
    pid("100", "net:[4026531840]", [
      "/usr/sbin/dhcpd",
      "-4",
      "-cf",
      "/etc/dhcp/dhcpd.conf",
      "eth0",
    ]);
    pid("200", "net:[4026532999]", ["dhcpd", "-cf", "/tmp/farm-testbed/etc/dhcp/dhcpd.conf"]);
    pid("300", "net:[4026531840]", ["named", "-c", "/etc/bind/named.conf"]);
    expect(runningDhcpd(proc)).toEqual([
      ["/usr/sbin/dhcpd", "-4", "-cf", "/etc/dhcp/dhcpd.conf", "eth0"],
    ]);
  });
});

describe("[firewall] rules and params", () => {
  it("expands shorewall.conf's CONFIG_PATH", () => {
    const conf = readFileSync(
      new URL("../../fixtures/host01/etc/shorewall/shorewall.conf", import.meta.url),
      "utf8",
    );
    expect(shorewallConfigPath(conf)).toEqual(["/etc/shorewall", "/usr/share/shorewall"]);
  });

  it("is ok when it is the first on CONFIG_PATH, fails naming the one shorewall reads", () => {
    const first = file("sw1/rules");
    const second = file("sw2/rules");
    const conf = file(
      "sw1/shorewall.conf",
      `CONFIG_PATH="${join(dir, "sw1")}:${join(dir, "sw2")}"\n`,
    );
    expect(checkShorewallPath("rules", first, conf).status).toBe("ok");
    expect(checkShorewallPath("rules", second, conf)).toMatchObject({
      status: "fail",
      fix: `set [firewall] rules = "${first}" in farmd.toml`,
    });
  });
});

describe("[proxy] sites", () => {
  const dump = recording("nginx-1.22.1-dump.txt");
  const T = ["nginx", "-T"];

  it("reads nginx -T's includes", () => {
    expect(nginxIncludes(dump)).toContain("/etc/nginx/sites-enabled/*");
  });

  it("is ok when nginx includes sites_enabled/*", async () => {
    const avail = join(dir, "nginx/sites-available");
    const enabled = join(dir, "nginx/sites-enabled");
    mkdirSync(avail, { recursive: true });
    mkdirSync(enabled, { recursive: true });
    const ours = dump.replaceAll("/etc/nginx/sites-enabled", enabled);
    const runner = new ScriptedRunner([{ argv: T, stdout: ours }]);
    expect((await checkNginxPaths(runner, avail, enabled)).status).toBe("ok");
    const elsewhere = new ScriptedRunner([{ argv: T, stdout: dump }]);
    const c = await checkNginxPaths(elsewhere, avail, enabled);
    expect(c.status).toBe("fail");
    expect(c.detail).toMatch(new RegExp(`^nginx does not include ${enabled} \\(its includes: `));
    expect(c.fix).toBe(
      `add \`include ${enabled}/*;\` to nginx's http block, or set [proxy] sites_enabled`,
    );
  });

  it("a missing directory fails before nginx is asked", async () => {
    const runner = new ScriptedRunner();
    const c = await checkNginxPaths(runner, join(dir, "nope"), join(dir, "nope2"));
    expect(c).toMatchObject({ status: "fail", fix: "set [proxy] sites_available in farmd.toml" });
    expect(runner.calls).toEqual([]);
  });
});
