// farmctl doctor on the testbed's real host01.farm: every check ok, and nothing on the host changed;
// then each of a missing tool, a broken template, a wrong zone path, a [ganeti] node not in the
// cluster gives exactly that one fail, with its fix. Completion asks the real farmd for VM names.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { DoctorReport } from "../../src/api/doctor.js";
import { unavailableReason, useTestbed, type Testbed } from "../testbed/testbed.js";
import { E2E_TEST_MS, farmctl, hostState } from "./helpers.js";

const skip = unavailableReason();
/** testbed.ts's PATH inside host01.farm. */
const TESTBED_PATH = [
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/sbin",
  "/usr/bin",
  "/sbin",
  "/bin",
];

async function doctor(
  tb: Testbed,
  args: string[] = [],
  env: string[] = [],
): Promise<[number, DoctorReport]> {
  const r = await tb.exec(["env", ...env, `${tb.dir}/bin/farmctl`, "doctor", "--json", ...args], {
    timeoutMs: 180_000,
  });
  try {
    return [r.exitCode, JSON.parse(r.stdout) as DoctorReport];
  } catch {
    throw new Error(`farmctl doctor exited ${r.exitCode}:\n${r.stdout}${r.stderr}`);
  }
}

const failures = (r: DoctorReport) => r.checks.filter((c) => c.status === "fail");

/** The testbed's farmd.toml with `edit` applied, as a file inside (the scratch dir is shared). */
function configWith(tb: Testbed, name: string, edit: (toml: string) => string): string {
  const path = join(tb.dir, `${name}.toml`);
  writeFileSync(path, edit(readFileSync(join(tb.dir, "etc/farmd/farmd.toml"), "utf8")));
  return path;
}

describe.skipIf(skip !== null)(
  `farmctl doctor on the testbed's real host${skip ? ` (SKIPPED: ${skip})` : ""}`,
  () => {
    const tb = useTestbed();

    it(
      "passes every check on a host laid out as the seed's, and changes nothing",
      async () => {
        const before = await hostState(tb);
        const [code, report] = await doctor(tb);
        expect(failures(report)).toEqual([]);
        expect(code).toBe(0);
        expect(report.ok).toBe(true);
        const ids = report.checks.map((c) => c.id);
        for (const id of [
          "tool gnt-cluster",
          "tool named-checkzone",
          "tool shorewall",
          "farmd.toml",
          "path [dns] zone_file",
          "path [dhcp] config",
          "path [firewall] rules",
          "path [proxy] sites",
          "template dns (zone-record.njk)",
          "template proxy (nginx-site.njk)",
          "ganeti node",
          "lvm vg",
          "ganeti monitor_dir",
          "farmd socket",
          "copy throttle",
          "farmd",
        ])
          expect(ids).toContain(id);
        expect(report.checks.find((c) => c.id === "tool gnt-cluster")!.detail).toMatch(/^3\.0\.2/);
        expect(report.checks.find((c) => c.id === "farmd")!.detail).toMatch(
          /^farmd 0\.1\.0 \(API v1, pid \d+\) answers$/,
        );
        expect(await hostState(tb)).toEqual(before);
        const text = await tb.exec([`${tb.dir}/bin/farmctl`, "doctor"], { timeoutMs: 180_000 });
        expect(text.exitCode).toBe(0);
        expect(text.stdout).toMatch(/^ok {4}ganeti node: host01\.farm is a node of the cluster/m);
        expect(text.stdout).toMatch(/^all \d+ checks pass/m);
      },
      E2E_TEST_MS,
    );

    it(
      "a missing tool: that one fail, with the package to install",
      async () => {
        // Every command of the testbed's PATH but ionice, as symlinks resolved inside host01.farm.
        const bin = join(tb.dir, "path-without-ionice");
        mkdirSync(bin);
        const seen = new Set<string>(["ionice"]);
        for (const dir of TESTBED_PATH)
          for (const name of readdirSync(dir)) {
            if (seen.has(name)) continue;
            seen.add(name);
            symlinkSync(join(dir, name), join(bin, name));
          }
        const [code, report] = await doctor(tb, [], [`PATH=${bin}`]);
        expect(failures(report)).toEqual([
          {
            id: "tool ionice",
            status: "fail",
            detail: `ionice is not on PATH (${bin})`,
            fix: "apt install util-linux (the copy runs at idle I/O priority)",
          },
        ]);
        expect(code).toBe(1);
      },
      E2E_TEST_MS,
    );

    it(
      "a broken template: that one fail, naming the checker's refusal and the template",
      async () => {
        const dir = join(tb.dir, "templates-broken");
        mkdirSync(dir);
        writeFileSync(join(dir, "zone-record.njk"), "{{ zoneName }}\tIN\tA\t{{ mac }}\n");
        const config = configWith(tb, "broken-template", (t) => `templates_dir = "${dir}"\n${t}`);
        const [code, report] = await doctor(tb, ["--config", config]);
        const [only, ...more] = failures(report);
        expect(more).toEqual([]);
        expect(only!.id).toBe("template dns (zone-record.njk)");
        expect(only!.detail).toMatch(
          /rejected by named-checkzone -k fail farm .*: .*bad dotted quad/s,
        );
        expect(only!.fix).toBe(
          `fix the template: ${dir}/zone-record.njk (an override) or the built-in one`,
        );
        expect(code).toBe(1);
      },
      E2E_TEST_MS,
    );

    it(
      "a template that uses a farm variable is rendered and checked with a sample value, not failed",
      async () => {
        const dir = join(tb.dir, "templates-vars");
        mkdirSync(dir);
        const builtin = readFileSync(
          new URL("../../templates/nginx-site.njk", import.meta.url),
          "utf8",
        );
        writeFileSync(
          join(dir, "nginx-site.njk"),
          `# release {{ vars.release | shquote }}\n${builtin}`,
        );
        const config = configWith(tb, "vars-template", (t) => `templates_dir = "${dir}"\n${t}`);
        const [code, report] = await doctor(tb, ["--config", config]);
        expect(failures(report)).toEqual([]);
        expect(report.checks.find((c) => c.id === "template proxy (nginx-site.njk)")).toMatchObject(
          {
            status: "ok",
            detail: expect.stringContaining('(with vars.release = "doctor") and passes'),
          },
        );
        expect(code).toBe(0);
      },
      E2E_TEST_MS,
    );

    it(
      "a wrong zone path: that one fail, with the file named loads",
      async () => {
        const config = configWith(tb, "wrong-zone", (t) =>
          t.replace("[dns]\n", '[dns]\nzone_file = "/etc/bind/db.frm"\n'),
        );
        const [code, report] = await doctor(tb, ["--config", config]);
        expect(failures(report)).toEqual([
          {
            id: "path [dns] zone_file",
            status: "fail",
            detail: "/etc/bind/db.frm does not exist",
            fix: "set [dns] zone_file in farmd.toml to the file named loads for zone 'farm' (named.conf says /etc/bind/db.farm)",
          },
        ]);
        // The zone's template cannot be tried without the zone: said, not failed twice.
        expect(report.checks.find((c) => c.id === "template dns (zone-record.njk)")!.status).toBe(
          "warn",
        );
        expect(code).toBe(1);
      },
      E2E_TEST_MS,
    );

    it(
      "a [ganeti] node not in the cluster: that one fail, with the cluster's nodes",
      async () => {
        const config = configWith(
          tb,
          "wrong-node",
          (t) => `${t}\n[ganeti]\nnode = "host02.farm"\n`,
        );
        const [code, report] = await doctor(tb, ["--config", config]);
        expect(failures(report)).toEqual([
          {
            id: "ganeti node",
            status: "fail",
            detail:
              "[ganeti] node 'host02.farm' is not a node of the cluster (its nodes: host01.farm)",
            fix: "set [ganeti] node in farmd.toml to one of: host01.farm",
          },
        ]);
        expect(code).toBe(1);
      },
      E2E_TEST_MS,
    );

    it(
      "completion: real bash completes `farmctl show ` with the VMs farmd knows",
      async () => {
        const script = `source <(farmctl completion bash)
COMP_WORDS=(farmctl show ""); COMP_CWORD=2; _farmctl; echo "show: \${COMPREPLY[*]}"
COMP_WORDS=(farmctl destroy gal); COMP_CWORD=2; _farmctl; echo "destroy: \${COMPREPLY[*]}"
COMP_WORDS=(farmctl clone gallifrey ""); COMP_CWORD=3; _farmctl; echo "clone target: \${COMPREPLY[*]}"`;
        const r = await tb.exec([
          "env",
          `PATH=${tb.dir}/bin:${TESTBED_PATH.join(":")}`,
          "bash",
          "-c",
          script,
        ]);
        expect(r.stdout).toBe("show: gallifrey\ndestroy: gallifrey\nclone target: \n");
      },
      E2E_TEST_MS,
    );
  },
);
