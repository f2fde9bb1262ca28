// nginx -t for real on farmctl's site: in a private prefix (-p/-c/-e), and on the host01 fixture
// tree mounted over /etc/nginx in a private mount namespace. nginx resolves proxy_pass names when it
// loads, so the namespace also gets an /etc/hosts with the VMs (the zone's job on the real host).
import { cpSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationFailed } from "../../../src/api/errors.js";
import { nginxPrefixArgv, validateNginx } from "../../../src/host/confedit/checkers.js";
import type { VmEntry } from "../../../src/host/confedit/entry.js";
import * as nginx from "../../../src/host/confedit/nginx.js";
import { ProxyFamily } from "../../../src/host/families/proxy.js";
import { RealFiles } from "../../../src/host/files.js";
import { ExecaRunner } from "../../../src/host/runner.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, FIXTURE, fixture, hasBinary, skipNote, tempDir } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const runner = new ExecaRunner();
const HOSTS =
  "127.0.0.1 localhost\n10.10.60.5 gallifrey.xivo.vm.farm\n10.10.60.6 gallifrey-dev.xivo.vm.farm\n";
const QA: VmEntry = {
  ...DEV,
  name: "gallifrey-qa",
  fqdn: "gallifrey-qa.xivo.vm.farm",
  webName: "gallifrey-qa.dachary.org",
};
const canRun = hasBinary("nginx") && hasBinary("unshare") && process.getuid?.() === 0;
const note =
  skipNote("nginx", "unshare") || (canRun ? "" : " (SKIPPED: needs root for unshare --mount)");
let cleanup = () => {};
afterEach(() => cleanup());

/** Runs the checker with `mounts` ([file, target] pairs) bound in a throw-away mount namespace. */
function inMountNs(mounts: [string, string][], tmpfs: string[] = []): string[] {
  const script = [
    ...mounts.map((m, i) => `mount --bind "$${i + 1}" ${m[1]}`),
    ...tmpfs.map((d) => `mount -t tmpfs tmpfs ${d}`),
    `shift ${mounts.length}`,
    'exec "$@"',
  ].join(" && ");
  return ["unshare", "--mount", "--", "sh", "-c", script, "sh", ...mounts.map((m) => m[0])];
}

/** A private nginx tree like the testbed's: nginx.conf including sites-enabled/*. */
function prefixTree(): {
  dir: string;
  hosts: string;
  enable: (name: string, text: string) => string;
} {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const d = tmp.dir;
  for (const sub of ["logs", "tmp", "sites-available", "sites-enabled"]) mkdirSync(join(d, sub));
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"];
  writeFileSync(
    join(d, "nginx.conf"),
    `worker_processes 1;\npid ${d}/nginx.pid;\nerror_log ${d}/logs/error.log;\n` +
      `events { worker_connections 64; }\nhttp {\n  access_log ${d}/logs/access.log;\n` +
      temps.map((x) => `  ${x}_temp_path ${d}/tmp/${x};\n`).join("") +
      `  include ${d}/sites-enabled/*;\n}\n`,
  );
  writeFileSync(join(d, "hosts"), HOSTS);
  const enable = (name: string, text: string) => {
    writeFileSync(join(d, "sites-available", name), text);
    symlinkSync(`../sites-available/${name}`, join(d, "sites-enabled", name));
    return join(d, "sites-available", name);
  };
  // the hand-written gallifrey site, its log moved under the prefix
  enable(
    "gallifrey.dachary.org",
    fixture("etc/nginx/sites-available/gallifrey.dachary.org").replaceAll(
      "/var/log/nginx",
      `${d}/logs`,
    ),
  );
  return { dir: d, hosts: join(d, "hosts"), enable };
}

function check(tree: { dir: string; hosts: string }, file: string): Promise<string> {
  const d = tree.dir;
  return validateNginx(runner, file, {
    wrap: inMountNs([[tree.hosts, "/etc/hosts"]]),
    prefixArgv: nginxPrefixArgv(d, join(d, "nginx.conf"), join(d, "logs", "error.log")),
  });
}

describe.skipIf(!canRun)(`nginx -t (real)${note}`, () => {
  it("accepts farmctl's site next to the hand-written one (-p/-c/-e prefix)", async () => {
    const tree = prefixTree();
    const site = nginx.addEntry("", DEV, nginx.render(t, DEV, { logDir: join(tree.dir, "logs") }));
    await check(tree, tree.enable(nginx.siteFileName(DEV), site));
  });

  it("refuses a site whose VM does not resolve, with nginx's message", async () => {
    const tree = prefixTree();
    const site = nginx.addEntry("", QA, nginx.render(t, QA, { logDir: join(tree.dir, "logs") }));
    const file = tree.enable(nginx.siteFileName(QA), site);
    const err = await check(tree, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).hint).toMatch(
      /\[emerg\] host not found in upstream "gallifrey-qa\.xivo\.vm\.farm" in \S+\/gallifrey-qa\.dachary\.org:\d+/,
    );
  });

  it("refuses a broken site with nginx's message", async () => {
    const tree = prefixTree();
    const broken = `server {\n listen 80;\n server_name ${DEV.webName}\n}\n`; // missing ";"
    const file = tree.enable(nginx.siteFileName(DEV), nginx.addEntry("", DEV, broken));
    const err = await check(tree, file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).hint).toMatch(
      /\[emerg\] .* in .*gallifrey-dev\.dachary\.org:\d+/,
    );
  });

  it("accepts the host01 fixture with farmctl's site, mounted over /etc/nginx", async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    const etc = join(tmp.dir, "nginx");
    cpSync(join(FIXTURE, "etc/nginx"), etc, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(tmp.dir, "hosts"), HOSTS);
    const name = nginx.siteFileName(DEV);
    writeFileSync(
      join(etc, "sites-available", name),
      nginx.addEntry("", DEV, nginx.render(t, DEV)),
    );
    symlinkSync(`../sites-available/${name}`, join(etc, "sites-enabled", name));
    const wrap = inMountNs(
      [
        [join(tmp.dir, "hosts"), "/etc/hosts"],
        [etc, "/etc/nginx"],
      ],
      ["/var/log/nginx"], // nginx -t creates every access log: keep the host's /var/log clean
    );
    await validateNginx(runner, `/etc/nginx/sites-available/${name}`, { wrap });
  });

  describe("the proxy family checks a site in a private copy before linking it", () => {
    /** The family over a private tree; nginx -t's access logs go to a throw-away /var/log/nginx. */
    function family(tree: { dir: string; hosts: string }) {
      const reloads: string[] = [];
      const proxy = new ProxyFamily({
        files: new RealFiles(join(tree.dir, "backups")),
        service: { describe: () => ["reload-nginx"], reload: async () => void reloads.push("x") },
        runner,
        templates: t,
        sitesAvailable: join(tree.dir, "sites-available"),
        sitesEnabled: join(tree.dir, "sites-enabled"),
        check: { wrap: inMountNs([[tree.hosts, "/etc/hosts"]], ["/var/log/nginx"]) },
      });
      return { proxy, reloads };
    }
    const sites = (d: string) =>
      ["sites-available", "sites-enabled"].flatMap((s) => readdirSync(join(d, s)));

    it("refuses a site nginx refuses: nothing written, nothing linked, nginx's message on the real path", async () => {
      const tree = prefixTree();
      const { proxy, reloads } = family(tree);
      const err = await proxy.add(QA, () => {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ValidationFailed);
      const file = join(tree.dir, "sites-available", nginx.siteFileName(QA));
      expect((err as ValidationFailed).message).toBe(
        `${file}: rejected by ${inMountNs([[tree.hosts, "/etc/hosts"]], ["/var/log/nginx"]).join(" ")} nginx -t -q -c ${tree.dir}/nginx.conf`,
      );
      // nginx's own words, with the paths it would have in the real tree (not the copy's)
      expect((err as ValidationFailed).hint).toContain(
        `host not found in upstream "gallifrey-qa.xivo.vm.farm" in ${tree.dir}/sites-enabled/gallifrey-qa.dachary.org:8`,
      );
      expect((err as ValidationFailed).hint).toContain(
        `nginx: configuration file ${tree.dir}/nginx.conf test failed`,
      );
      expect(sites(tree.dir)).toEqual(["gallifrey.dachary.org", "gallifrey.dachary.org"]);
      expect(reloads).toEqual([]);
    });

    it("writes, links and reloads a site nginx accepts; the live tree then passes nginx -t", async () => {
      const tree = prefixTree();
      const { proxy, reloads } = family(tree);
      await proxy.add(DEV, () => {});
      expect(sites(tree.dir)).toEqual([
        "gallifrey-dev.dachary.org",
        "gallifrey.dachary.org",
        "gallifrey-dev.dachary.org",
        "gallifrey.dachary.org",
      ]);
      expect(reloads).toHaveLength(1);
      await check(tree, join(tree.dir, "sites-available", nginx.siteFileName(DEV)));
    });
  });
});
