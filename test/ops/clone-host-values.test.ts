// Ports and addresses the host itself uses are never given to a VM (issue 8 item 9): host01's
// shorewall rules (SSH/HTTP/DNS macros, a DNAT), its params, and the listening sockets of a
// captured /proc/net/tcp{,6} (2024, 8080, 22009, 22010).
import { appendFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { FarmError } from "../../src/api/errors.js";
import { harness, type Harness } from "./clone-harness.js";

let h: Harness;
afterEach(() => h?.cleanup());

const refusal = async (req: Parameters<Harness["clone"]>[0]) => {
  const before = h.snapshot();
  const err = (await h.clone(req).catch((e: unknown) => e)) as FarmError;
  expect(err, JSON.stringify(req)).toBeInstanceOf(FarmError);
  expect(err.exitCode).toBe(65);
  expect(h.runner.mutations()).toEqual([]);
  expect(h.snapshot()).toEqual(before);
  expect(h.inventory.list()).toEqual([]);
  return err;
};

const macros = existsSync("/usr/share/shorewall/macro.SSH");

describe("SSH ports", () => {
  it.skipIf(!macros)("the rules hold ports by number and by shorewall's own macros", async () => {
    h = harness();
    const held = await h.deps().families.firewall.portHolders();
    const rules = `${h.root}/etc/shorewall/rules`;
    expect([...held.keys()].sort((a, b) => a - b)).toEqual([22, 53, 80, 22005]);
    expect(held.get(22)).toBe(`shorewall rule 'SSH(ACCEPT)\tloc\t\t$FW' in ${rules}`);
    expect(held.get(80)).toBe(`shorewall rule 'HTTP(ACCEPT)\tnet\t\t$FW' in ${rules}`);
    expect(held.get(53)).toBe(`shorewall rule 'DNS(ACCEPT)\tloc\t\t$FW' in ${rules}`);
  });

  it("refuses a port outside [firewall] ssh_ports, naming the range", async () => {
    h = harness();
    const err = await refusal({ sshPort: 22 });
    expect(err.message).toBe(
      "SSH port 22 is outside the range farmctl forwards ([firewall] ssh_ports 22000-22255)",
    );
    expect(err.hint).toContain("22000-22255");
  });

  it.skipIf(!macros)(
    "refuses a port a shorewall macro opens, naming the rule and the free ports",
    async () => {
      h = harness();
      h.config.firewall.ssh_ports = "20-30";
      const err = await refusal({ sshPort: 22 });
      expect(err.message).toMatch(/^SSH port 22 is already used by shorewall rule 'SSH\(ACCEPT\)/);
      expect(err.hint).toContain("free in 20-30: 20-21, 23-30");
    },
  );

  it("refuses a port a host socket listens on, and another VM's forwarded port", async () => {
    h = harness();
    let err = await refusal({ sshPort: 22009 });
    expect(err.message).toBe(
      "SSH port 22009 is already used by a socket listening on the host (`ss -tlnp sport = :22009` names its program)",
    );
    expect(err.hint).toContain("22000-22004, 22006-22008, 22011-22255");
    err = await refusal({ sshPort: 22010 }); // listening on [::] only
    expect(err.message).toMatch(/22010 is already used by a socket listening on the host/);
    err = await refusal({ sshPort: 22005 });
    expect(err.message).toMatch(/^SSH port 22005 is already used by shorewall rule 'DNAT\t/);
  });

  it("allocates from the range only, skipping every port in use", async () => {
    h = harness();
    // 22000 + .6 is outside; 22009 and 22010 listen, so the first free one is 22011.
    h.config.firewall.ssh_ports = "22009-22012";
    expect((await h.clone({})).sshPort).toBe(22011);
    const err = await h.clone({ name: "gallifrey-qa", sshPort: 22011 }).catch((e: FarmError) => e);
    expect((err as FarmError).exitCode).toBe(65);
    expect((err as FarmError).message).toMatch(/^SSH port 22011 is already used by /);
    expect((await h.clone({ name: "gallifrey-qa" })).sshPort).toBe(22012);
    const full = await h.clone({ name: "gallifrey-ci" }).catch((e: FarmError) => e);
    expect((full as FarmError).message).toBe(
      "no free SSH port left in [firewall] ssh_ports 22009-22012",
    );
  });
});

describe("addresses named in shorewall params", () => {
  const withFw = () => {
    h = harness();
    appendFileSync(`${h.root}/etc/shorewall/params`, "FW=10.10.60.6\n");
  };

  it("are skipped by the allocation", async () => {
    withFw();
    expect((await h.clone({})).ip).toBe("10.10.60.7");
  });

  it("are refused as --ip, naming the param", async () => {
    withFw();
    const err = await refusal({ ip: "10.10.60.6" });
    expect(err.message).toBe(
      `address 10.10.60.6 is already in use (shorewall param FW in ${h.root}/etc/shorewall/params)`,
    );
  });
});

describe("web names", () => {
  const sites = () => `${h.root}/etc/nginx/sites-available`;

  it("refuses a name another site serves, or a site file that exists, naming the file", async () => {
    h = harness();
    writeFileSync(
      `${sites()}/shop`,
      "server {\n\tlisten 80;\n\tserver_name Gallifrey-QA.dachary.org;\n}\n",
    );
    writeFileSync(
      `${sites()}/gallifrey-ci.dachary.org`,
      "server {\n\tserver_name ci.example.org;\n}\n",
    );
    let err = await refusal({ name: "gallifrey-qa" });
    expect(err.message).toBe(
      `web name 'gallifrey-qa.dachary.org' is already served by nginx site ${sites()}/shop`,
    );
    expect(err.hint).toBe("give another --web, or --no-web");
    err = await refusal({ web: "gallifrey-ci.dachary.org" });
    expect(err.message).toBe(`nginx site file ${sites()}/gallifrey-ci.dachary.org already exists`);
    err = await refusal({ web: "gallifrey.dachary.org" }); // host01's own site
    expect(err.message).toBe(`nginx site file ${sites()}/gallifrey.dachary.org already exists`);
  });

  it("takes Debian's default site and a directory among the sites in its stride", async () => {
    h = harness();
    // nginx 1.22's /etc/nginx/sites-available/default, comments left out, linked as Debian links it.
    writeFileSync(
      `${sites()}/default`,
      "server {\n\tlisten 80 default_server;\n\tlisten [::]:80 default_server;\n\troot /var/www/html;\n\tindex index.html index.htm index.nginx-debian.html;\n\tserver_name _;\n\tlocation / {\n\t\ttry_files $uri $uri/ =404;\n\t}\n}\n",
    );
    symlinkSync("../sites-available/default", `${h.root}/etc/nginx/sites-enabled/default`);
    mkdirSync(`${sites()}/old`);
    expect((await h.clone({})).webName).toBe("gallifrey-dev.dachary.org");
  });
});
