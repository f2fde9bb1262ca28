// The Debian package as an admin gets it (issue 13): built with dpkg-buildpackage, clean for
// lintian, installed with dpkg -i on this machine, its farmd started inside the testbed and a clone
// made with its farmctl, then purged without a trace. Run by `npm run test:deb` (vitest.deb.config.ts),
// not inside `npm test`: it installs into this machine's /usr, /etc and group database, which the
// suite's other files read (e.g. the default /etc/farmd/farmd.toml).
import { execa } from "execa";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alive, retry, SOURCE, TARGET, writeInside } from "../e2e/helpers.js";
import { Testbed, unavailableReason, type FarmdProcess } from "../testbed/testbed.js";

const REPO = new URL("../..", import.meta.url).pathname;
const VERSION = (
  JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string }
).version;
const STATE = "/var/lib/farmd";
const WANTS = "/etc/systemd/system/multi-user.target.wants/farmd.service";

function skipReason(): string | null {
  const testbed = unavailableReason();
  if (testbed) return testbed;
  for (const tool of ["dpkg-buildpackage", "lintian", "dh", "man"])
    if (!["/usr/bin", "/usr/sbin"].some((d) => existsSync(`${d}/${tool}`)))
      return `${tool} is not installed (bash test/install-deps.sh)`;
  return null;
}
const skip = skipReason();

/** Runs a command on this machine; never throws on its exit code. */
const sh = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  execa(cmd, args, { reject: false, env: { LANG: "C.UTF-8", ...env }, timeout: 900_000 });

/** Whether dpkg has farmctl in any state but not-installed (installed, unpacked, config-files...). */
async function known(): Promise<boolean> {
  const r = await sh("dpkg-query", ["-W", "-f=${Status}", "farmctl"]);
  return r.exitCode === 0 && r.stdout.trim() !== "" && !r.stdout.includes("not-installed");
}

describe.skipIf(skip !== null)(
  `the Debian package, built, linted, installed and purged${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const out = mkdtempSync("/tmp/farm-deb-");
    let deb = "";
    let installed: string[] = [];
    let madeGroup = false;
    let madeState = false;
    // Set once this machine was found without farmctl: only then does afterAll purge it.
    let ours = false;

    beforeAll(async () => {
      // This machine's own farmctl, config or state are never overwritten, nor purged by the test.
      if (await known())
        throw new Error("farmctl is already installed on this machine: the test will not touch it");
      for (const path of ["/etc/farmd", STATE, "/usr/lib/farmctl", "/usr/share/farmctl", WANTS])
        if (present(path))
          throw new Error(`${path} exists: the test installs and purges the package there`);
      madeGroup = (await sh("getent", ["group", "farmd"])).exitCode !== 0;
      ours = true;
    });

    afterAll(async () => {
      // Even after a failure: nothing of the package stays on this machine.
      rmSync(out, { recursive: true, force: true });
      if (!ours) return;
      if (await known()) await sh("dpkg", ["--purge", "farmctl"]);
      if (madeGroup && (await sh("getent", ["group", "farmd"])).exitCode === 0)
        await sh("groupdel", ["farmd"]);
      if (madeState) rmSync(STATE, { recursive: true, force: true });
    }, 120_000);

    it("npm run deb builds farmctl_<version>_<arch>.deb with dpkg-buildpackage", async () => {
      const r = await sh("bash", [join(REPO, "debian/build-deb.sh")], { FARMCTL_DEB_OUT: out });
      expect(r.exitCode, r.stdout.slice(-4000) + r.stderr.slice(-4000)).toBe(0);
      const arch = (await sh("dpkg", ["--print-architecture"])).stdout.trim();
      expect(readdirSync(out)).toEqual([`farmctl_${VERSION}_${arch}.deb`]);
      deb = join(out, `farmctl_${VERSION}_${arch}.deb`);
      const control = (await sh("dpkg-deb", ["-f", deb])).stdout;
      expect(control).toMatch(/^Depends:.*\bnodejs \(>= 20\.19\)/m);
      expect(control).toMatch(/^Recommends:.*\bganeti\b.*\blvm2\b/m);
      const conffiles = (await sh("dpkg-deb", ["-I", deb, "conffiles"])).stdout;
      expect(conffiles.split("\n")).toContain("/etc/farmd/farmd.toml");
    }, 900_000);

    it("lintian reports no error and no warning that is not overridden with a reason", async () => {
      expect(deb).not.toBe("");
      // lintian leaves its ELF cache in TMPDIR: give it one that afterAll removes.
      const tmp = join(out, "lintian-tmp");
      mkdirSync(tmp);
      const r = await sh(
        "lintian",
        ["--fail-on", "error,warning", "--tag-display-limit", "0", deb],
        {
          TMPDIR: tmp,
        },
      );
      expect(r.stdout + r.stderr, "lintian's report").not.toMatch(/^[EW]: /m);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      // Each override says why, in the comment line above it.
      const overrides = readFileSync(join(REPO, "debian/farmctl.lintian-overrides"), "utf8");
      const lines = overrides.split("\n");
      lines.forEach((line, i) => {
        if (line.trim() === "" || line.startsWith("#")) return;
        expect(lines[i - 1], `the reason for: ${line}`).toMatch(/^# \S/);
      });
    }, 300_000);

    it("dpkg -i installs it: farmctl, farmd, the unit, the conffile, the templates, the group", async () => {
      expect(deb).not.toBe("");
      const r = await sh("dpkg", ["-i", deb]);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      installed = (await sh("dpkg", ["-L", "farmctl"])).stdout.split("\n").filter(Boolean);
      for (const path of [
        "/usr/bin/farmctl",
        "/usr/sbin/farmd",
        "/lib/systemd/system/farmd.service",
        "/etc/farmd/farmd.toml",
        "/usr/share/farmctl/templates/zone-record.njk",
        "/usr/share/farmctl/templates/guest/farm-firstboot.sh.njk",
        "/usr/lib/farmctl/node_modules/better-sqlite3/build/Release/better_sqlite3.node",
      ])
        expect(installed).toContain(path);
      expect(readFileSync("/lib/systemd/system/farmd.service", "utf8")).toMatch(
        /^ExecStart=\/usr\/sbin\/farmd$/m,
      );
      expect(readFileSync("/etc/farmd/farmd.toml", "utf8")).toMatch(/^socket_group = "farmd"$/m);
      expect((await sh("getent", ["group", "farmd"])).exitCode).toBe(0);
      // Enabled the Debian way (deb-systemd-helper), even on a machine where systemd is not running.
      expect(readlinkSync(WANTS)).toBe("/lib/systemd/system/farmd.service");
      // Completion, once farmctl has `completion bash` (src/cli/completion.ts; debian/rules).
      if (existsSync(join(REPO, "src/cli/completion.ts")))
        expect(installed).toContain("/usr/share/bash-completion/completions/farmctl");
      // No dev dependency comes along (vitest, typescript, prettier).
      expect(
        installed.filter((p) => /node_modules\/(vitest|typescript|prettier)\//.test(p)),
      ).toEqual([]);
    }, 300_000);

    it("farmctl --version and farmd --version print the package's version", async () => {
      const ctl = await sh("/usr/bin/farmctl", ["--version"]);
      expect(ctl.exitCode, ctl.stderr).toBe(0);
      expect(ctl.stdout).toMatch(new RegExp(`^farmctl ${VERSION.replaceAll(".", "\\.")}\\b`, "m"));
      const d = await sh("/usr/sbin/farmd", ["--version"]);
      expect(d.exitCode, d.stderr).toBe(0);
      expect(d.stdout).toContain(VERSION);
    });

    it("man -l renders each installed man page", async () => {
      const pages = installed.filter((p) => p.startsWith("/usr/share/man/") && p.endsWith(".gz"));
      expect(pages.map((p) => p.split("/").at(-1)).sort()).toEqual([
        "farmctl-farm.5.gz",
        "farmctl.1.gz",
        "farmd.8.gz",
        "farmd.toml.5.gz",
      ]);
      for (const page of pages) {
        const r = await sh("man", ["-l", page], { MANPAGER: "cat", MANWIDTH: "80" });
        expect(r.exitCode, `${page}: ${r.stderr}`).toBe(0);
        expect(r.stderr).toBe("");
        expect(r.stdout).toMatch(/^NAME\s*$/m);
      }
    });

    describe("the installed farmd inside the testbed, driven by the installed farmctl", () => {
      const tb = new Testbed();
      let farmd: FarmdProcess | undefined;

      beforeAll(async () => {
        expect(installed.length).toBeGreaterThan(0);
        await tb.up();
        // The testbed started the checkout's farmd: the installed one takes its place.
        const own = Number(readFileSync(join(tb.dir, "farmd.pid"), "utf8").trim());
        process.kill(own, "SIGTERM");
        await retry(
          "the testbed's own farmd gone",
          60_000,
          async () => (alive(own) ? null : true),
          100,
        );
        // An admin's override in /etc/farmd/templates wins over /usr/share/farmctl/templates.
        const shipped = readFileSync("/usr/share/farmctl/templates/zone-record.njk", "utf8");
        await tb.run(["mkdir", "-p", "/etc/farmd/templates"]);
        await writeInside(
          tb,
          "/etc/farmd/templates/zone-record.njk",
          `; admin's override\n${shipped}`,
        );
        farmd = await tb.spawnFarmd("/etc/farmd/farmd.toml", { program: "/usr/sbin/farmd" });
      }, 600_000);

      afterAll(async () => {
        if (farmd && !farmd.exit) {
          process.kill(farmd.pid, "SIGTERM");
          await farmd.exited;
        }
        await tb.down();
      }, 180_000);

      it("runs the installed program", () => {
        const argv = readFileSync(`/proc/${farmd!.pid}/cmdline`, "utf8").split("\0");
        expect(argv).toContain("/usr/sbin/farmd");
      });

      // farmctl doctor comes with src/cli/doctor.ts (issue 13's other half): checked once it is there.
      const hasDoctor = existsSync(join(REPO, "src/cli/doctor.ts"));
      it.skipIf(!hasDoctor)(
        `/usr/bin/farmctl doctor --json: every check passes against the installed farmd${hasDoctor ? "" : " (SKIPPED: no farmctl doctor yet)"}`,
        async () => {
          const r = await tb.exec(["/usr/bin/farmctl", "doctor", "--json"], { timeoutMs: 180_000 });
          const report = JSON.parse(r.stdout) as {
            ok: boolean;
            checks: { id: string; status: string; detail?: string }[];
          };
          expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
          expect(r.exitCode, r.stderr).toBe(0);
          expect(report.ok).toBe(true);
          const answer = report.checks.find((c) => c.id === "farmd")?.detail;
          expect(answer).toContain(`pid ${farmd!.pid}`);
        },
        240_000,
      );

      it("clones gallifrey with /usr/bin/farmctl, the shipped templates and the admin's override", async () => {
        const r = await tb.exec(["/usr/bin/farmctl", "clone", "gallifrey", "gallifrey-dev"], {
          timeoutMs: 300_000,
        });
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
        expect(r.stdout).toContain(`cloned ${SOURCE} into gallifrey-dev`);
        const list = await tb.run(["gnt-instance", "list", "--no-headers", "-o", "name,status"]);
        expect(list).toMatch(new RegExp(`^${TARGET.replaceAll(".", "\\.")}\\s+running$`, "m"));
        expect((await tb.run(["dig", "+short", "@10.10.60.1", TARGET])).trim()).toBe("10.10.60.6");
        const zone = tb.readFile("/etc/bind/db.farm");
        expect(zone).toMatch(
          /^; admin's override\ngallifrey-dev\.xivo\.vm\s+IN\s+A\s+10\.10\.60\.6$/m,
        );
        // The shipped nginx template (no override) made the site.
        expect(tb.readFile("/etc/nginx/sites-available/gallifrey-dev.dachary.org")).toContain(
          "gallifrey-dev.dachary.org",
        );
        const show = await tb.run(["/usr/bin/farmctl", "show", "gallifrey-dev", "--json"]);
        expect(JSON.parse(show)).toMatchObject({ vm: { name: "gallifrey-dev" } });
      }, 360_000);
    });

    it("dpkg --remove keeps the conffile and farmd's state; --purge removes them and every file", async () => {
      expect(installed.length).toBeGreaterThan(0);
      // What systemd's StateDirectory=farmd makes on a host where the service ran.
      mkdirSync(STATE, { recursive: true });
      madeState = true;
      const db = join(STATE, "farmd.sqlite");
      await sh("cp", ["/dev/null", db]);
      const remove = await sh("dpkg", ["--remove", "farmctl"]);
      expect(remove.exitCode, remove.stdout + remove.stderr).toBe(0);
      expect(existsSync(db)).toBe(true);
      expect(existsSync("/etc/farmd/farmd.toml")).toBe(true);
      expect(present("/usr/bin/farmctl")).toBe(false);
      const purge = await sh("dpkg", ["--purge", "farmctl"]);
      expect(purge.exitCode, purge.stdout + purge.stderr).toBe(0);
      expect(await known()).toBe(false);
      const left = installed.filter((p) => present(p) && !(isDir(p) && isSharedDir(p)));
      expect(left).toEqual([]);
      for (const path of [STATE, "/etc/farmd", "/usr/lib/farmctl", "/usr/share/farmctl"])
        expect(existsSync(path), path).toBe(false);
      // Nor the unit's enablement: its symlink and deb-systemd-helper's records of it.
      expect(present(WANTS)).toBe(false);
      const records = (await sh("find", ["/var/lib/systemd", "-name", "*farmd*"])).stdout.trim();
      expect(records).toBe("");
    }, 120_000);
  },
);

/** Whether `path` is there, a dangling symlink included. */
function present(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A directory, or a symlink to one (/lib on a merged-/usr system). */
const isDir = (path: string) => {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
};

/** A directory other packages own too (/usr/bin, /usr/share/man/man1, ...): dpkg leaves it. */
function isSharedDir(path: string): boolean {
  return !/\/(farmctl|farmd)(\/|$)/.test(path);
}
