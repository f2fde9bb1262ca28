// The guest planner: each operation's edits, /etc/hosts kept byte for byte but for its 127.0.1.1
// line, and the guest files rendered from templates with every value checked.
import { execa } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BadInput, ConfigError } from "../../../src/api/errors.js";
import { parseConfig } from "../../../src/config/load.js";
import { Templates } from "../../../src/host/templates.js";
import { renderGuestFiles } from "../../../src/ops/guest/files.js";
import { setHostname } from "../../../src/ops/guest/hosts.js";
import { describeEdit, NET_STATE, planGuest } from "../../../src/ops/guest/plan.js";
import type { GuestEdit } from "../../../src/ops/ports.js";
import { VM } from "./vm.js";

const DEBIAN_HOSTS =
  "127.0.0.1\tlocalhost\n127.0.1.1\tgallifrey.xivo.vm.farm\tgallifrey\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n";
const NEW = "127.0.1.1\tgallifrey-dev.xivo.vm.farm gallifrey-dev";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An override dir holding `templates` under guest/, the built-in ones behind it. */
function templates(files: Record<string, string> = {}): Templates {
  const dir = mkdtempSync(join(tmpdir(), "farm-guest-"));
  dirs.push(dir);
  mkdirSync(join(dir, "guest"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, "guest", name), text);
  return new Templates(dir);
}

const guestConfig = (toml = "") => parseConfig(toml, "test.toml").guest;
const PF_TOML = `[guest.files."/etc/packaging-farm/packaging-farm.conf"]
template = "packaging-farm.conf.njk"
mode = "0640"
owner = "0:4"
`;

describe("/etc/hosts", () => {
  it("replaces the 127.0.1.1 line in place, every other line byte for byte", () => {
    expect(setHostname(DEBIAN_HOSTS, VM.fqdn, VM.name)).toBe(
      DEBIAN_HOSTS.replace("127.0.1.1\tgallifrey.xivo.vm.farm\tgallifrey", NEW),
    );
  });

  it("drops the old line's extra aliases and trailing comment", () => {
    const hosts = "127.0.0.1 localhost\n  127.0.1.1   gallifrey.xivo.vm.farm gallifrey gf # old\n";
    expect(setHostname(hosts, VM.fqdn, VM.name)).toBe(`127.0.0.1 localhost\n${NEW}\n`);
  });

  it("adds the line after 127.0.0.1 when missing, and first when that is missing too", () => {
    expect(setHostname("127.0.0.1 localhost\n::1 localhost\n", VM.fqdn, VM.name)).toBe(
      `127.0.0.1 localhost\n${NEW}\n::1 localhost\n`,
    );
    expect(setHostname("127.0.0.1 localhost", VM.fqdn, VM.name)).toBe(
      `127.0.0.1 localhost\n${NEW}`,
    );
    expect(setHostname("::1 localhost\n", VM.fqdn, VM.name)).toBe(`${NEW}\n::1 localhost\n`);
  });

  it("leaves comments and IPv6 lines alone, even one that mentions 127.0.1.1", () => {
    const hosts =
      "# 127.0.1.1 is Debian's\n127.0.0.1 localhost\n#127.0.1.1 commented.out\n::1 ip6-localhost\nfe00::0 ip6-localnet\n";
    expect(setHostname(hosts, VM.fqdn, VM.name)).toBe(
      `# 127.0.1.1 is Debian's\n127.0.0.1 localhost\n${NEW}\n#127.0.1.1 commented.out\n::1 ip6-localhost\nfe00::0 ip6-localnet\n`,
    );
  });

  it("writes Debian's two lines when the guest has no /etc/hosts", () => {
    expect(setHostname(null, VM.fqdn, VM.name)).toBe(`127.0.0.1\tlocalhost\n${NEW}\n`);
  });
});

describe("planGuest", () => {
  const plan = (toml: string, more: Partial<Parameters<typeof planGuest>[0]> = {}) =>
    planGuest({
      config: guestConfig(toml),
      templates: templates(),
      vm: VM,
      vars: { git_revision: "1.2" },
      os: { root: "/dev/sda1", type: "linux", distro: "debian", hostname: "gallifrey" },
      hosts: DEBIAN_HOSTS,
      ...more,
    });
  const paths = (edits: GuestEdit[]) => edits.map((e) => `${e.op} ${e.path}`);

  it("hostname: /etc/hostname and the /etc/hosts line, root's 0644", () => {
    const p = plan('[guest]\ncustomize = ["hostname"]');
    expect(p).toMatchObject({ operations: ["hostname"], hostname: "gallifrey-dev", files: [] });
    expect(p.edits).toEqual([
      {
        op: "write",
        path: "/etc/hostname",
        content: "gallifrey-dev\n",
        mode: 0o644,
        uid: 0,
        gid: 0,
      },
      {
        op: "write",
        path: "/etc/hosts",
        content: setHostname(DEBIAN_HOSTS, VM.fqdn, VM.name),
        mode: 0o644,
        uid: 0,
        gid: 0,
      },
    ]);
  });

  it("machine-id: emptied, dbus' copy of it deleted (Debian's is a copy, not a link)", () => {
    const p = plan('[guest]\ncustomize = ["machine-id"]');
    expect(p.edits).toEqual([
      { op: "truncate", path: "/etc/machine-id" },
      { op: "delete", path: "/var/lib/dbus/machine-id" },
    ]);
  });

  it("ssh-host-keys: keys deleted, a first-boot unit enabled by its link", () => {
    const p = plan('[guest]\ncustomize = ["ssh-host-keys"]');
    expect(paths(p.edits)).toEqual([
      "delete /etc/ssh/ssh_host_*",
      "mkdir /usr/local/sbin",
      "mkdir /etc/systemd/system",
      "write /usr/local/sbin/farm-firstboot",
      "write /etc/systemd/system/farm-firstboot.service",
      "mkdir /etc/systemd/system/multi-user.target.wants",
      "symlink /etc/systemd/system/multi-user.target.wants/farm-firstboot.service",
    ]);
    const script = p.edits[3] as Extract<GuestEdit, { op: "write" }>;
    expect(script.mode).toBe(0o755);
    expect(script.content).toContain("ssh-keygen -A\n");
    expect(script.content).toContain('echo "-----BEGIN SSH HOST KEY FINGERPRINTS-----"');
    expect(script.content).toContain('echo "farm-firstboot: machine-id $(cat /etc/machine-id)"');
    expect(script.content).toContain(
      "rm -f /etc/systemd/system/multi-user.target.wants/farm-firstboot.service",
    );
    const unit = p.edits[4] as Extract<GuestEdit, { op: "write" }>;
    expect(unit.content).toMatch(/^Before=ssh\.service/m);
    expect(unit.content).toMatch(/^ExecStart=\/usr\/local\/sbin\/farm-firstboot$/m);
  });

  it("the first-boot script is valid sh (sh -n)", async () => {
    const p = plan('[guest]\ncustomize = ["ssh-host-keys"]');
    const script = (p.edits[3] as Extract<GuestEdit, { op: "write" }>).content;
    const r = await execa("sh", ["-n"], { input: script, reject: false });
    expect(r.stderr).toBe("");
    expect(r.exitCode).toBe(0);
  });

  it("net-state: the udev rule and every DHCP client's leases", () => {
    const p = plan('[guest]\ncustomize = ["net-state"]');
    expect(p.edits).toEqual(NET_STATE.map((path) => ({ op: "delete", path })));
    expect(NET_STATE).toContain("/etc/udev/rules.d/70-persistent-net.rules");
    expect(NET_STATE).toContain("/var/lib/dhcp/dhclient*.leases");
  });

  it("files: each [guest.files] entry rendered, its directory made, mode and owner as given", () => {
    const p = plan(`[guest]\ncustomize = ["files"]\n${PF_TOML}`);
    expect(p.files).toEqual(["/etc/packaging-farm/packaging-farm.conf"]);
    expect(paths(p.edits)).toEqual([
      "mkdir /etc/packaging-farm",
      "write /etc/packaging-farm/packaging-farm.conf",
    ]);
    const conf = p.edits[1] as Extract<GuestEdit, { op: "write" }>;
    expect(conf).toMatchObject({ mode: 0o640, uid: 0, gid: 4 });
    expect(conf.content).toContain("FARM_NAME='gallifrey-dev'\n");
    expect(conf.content).toContain("FARM_FQDN='gallifrey-dev.xivo.vm.farm'\n");
    expect(conf.content).toContain("FARM_SSH_PORT='22006'\n");
    expect(conf.content).toContain("FARM_SOURCE='gallifrey.xivo.vm.farm'\n");
    expect(conf.content).toContain("GIT_REVISION='1.2'\n");
    expect(conf.content).not.toContain("GIT_URL");
    const url = plan(PF_TOML, { vars: { git_revision: "1.2", git_url: "https://x/y.git" } });
    expect(url.edits.at(-1)).toMatchObject({
      content: expect.stringContaining("GIT_URL='https://x/y.git'\n# The gitrevision(7)"),
    });
  });

  it("all five by default, in the order [guest] customize gives", () => {
    const p = plan(PF_TOML);
    expect(p.operations).toEqual(["hostname", "machine-id", "ssh-host-keys", "net-state", "files"]);
    expect(plan('[guest]\ncustomize = ["net-state", "hostname"]').edits[0]).toEqual({
      op: "delete",
      path: "/etc/udev/rules.d/70-persistent-net.rules",
    });
  });

  it("a dry run (nothing read) plans /etc/hostname and the machine-ids, shown as diffs", () => {
    const p = plan('[guest]\ncustomize = ["hostname", "machine-id"]', {
      os: null,
      hosts: undefined,
    });
    expect(paths(p.edits)).toEqual([
      "write /etc/hostname",
      "truncate /etc/machine-id",
      "delete /var/lib/dbus/machine-id",
    ]);
    expect(describeEdit(p.edits[0]!)).toEqual({
      path: "guest:/etc/hostname",
      diff: "--- guest:/etc/hostname\n+++ guest:/etc/hostname\n@@ new content (mode 0644, owner 0:0) @@\n+gallifrey-dev\n",
    });
    expect(describeEdit(p.edits[2]!).diff).toContain("@@ deleted (when present) @@");
  });
});

describe("guest files: templates are injection paths", () => {
  const files = (toml: string) => guestConfig(toml).files;

  it("a variable the template needs and the clone lacks is named, with the fix", () => {
    const err = (() => {
      try {
        renderGuestFiles(files(PF_TOML), templates(), VM, {});
      } catch (e) {
        return e;
      }
    })() as BadInput;
    expect(err).toBeInstanceOf(BadInput);
    expect(err.exitCode).toBe(65);
    expect(err.message).toBe(
      "guest template packaging-farm.conf.njk uses vars.git_revision, which this clone was not given",
    );
    expect(err.hint).toContain("--var git_revision=VALUE");
  });

  it("a syntax error after an `is defined` test is the template's, not a missing variable", () => {
    const t = templates({ "odd.njk": "{% if vars.x is defined %}x{% endif %}{% if %}\n" });
    const f = files('[guest.files."/etc/odd"]\ntemplate = "odd.njk"');
    expect(() => renderGuestFiles(f, t, VM, {})).toThrow(ConfigError);
  });

  it("a var may test itself with `is defined` without failing", () => {
    const t = templates({
      "opt.njk": "{% if vars.x is defined %}x={{ vars.x }}{% else %}none{% endif %}\n",
    });
    const f = files('[guest.files."/etc/opt"]\ntemplate = "opt.njk"');
    expect(renderGuestFiles(f, t, VM, {})[0]!.content).toBe("none\n");
    expect(renderGuestFiles(f, t, VM, { x: "1" })[0]!.content).toBe("x=1\n");
  });

  it("shquote keeps a hostile value one shell word", async () => {
    const hostile = `'; reboot; echo '$(id)\`id\``;
    const [f] = renderGuestFiles(files(PF_TOML), templates(), VM, { git_revision: hostile });
    const line = f!.content.split("\n").find((l) => l.startsWith("GIT_REVISION="))!;
    // The real shell reads back exactly the value, running nothing.
    const r = await execa("sh", ["-s"], { input: `${line}\nprintf %s "$GIT_REVISION"` });
    expect(r.stdout).toBe(hostile);
  });

  it("an unknown template and a syntax error are config errors naming the template", () => {
    expect(() =>
      renderGuestFiles(files('[guest.files."/etc/x"]\ntemplate = "nope.njk"'), templates(), VM, {}),
    ).toThrow(ConfigError);
    const t = templates({ "bad.njk": "{% if %}\n" });
    expect(() =>
      renderGuestFiles(files('[guest.files."/etc/x"]\ntemplate = "bad.njk"'), t, VM, {}),
    ).toThrow(/template guest\/bad\.njk/);
  });

  it("the built-in example is the one shipped under templates/guest/", () => {
    const text = readFileSync(
      new URL("../../../templates/guest/packaging-farm.conf.njk", import.meta.url),
      "utf8",
    );
    expect(text).toContain("GIT_REVISION={{ vars.git_revision | shquote }}");
  });
});
