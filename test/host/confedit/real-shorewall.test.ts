// shorewall check for real on a copy of the host01 fixture's /etc/shorewall holding farmctl's rule
// and param. Always in a throw-away netns (unshare --net) AND with the capabilities file, so nothing
// probes or leaves iptables tables behind on this host.
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ValidationFailed } from "../../../src/api/errors.js";
import { validateShorewall } from "../../../src/host/confedit/checkers.js";
import * as shorewall from "../../../src/host/confedit/shorewall.js";
import { ExecaRunner } from "../../../src/host/runner.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, FIXTURE, hasBinary, skipNote, tempDir } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const runner = new ExecaRunner();
const canRun = hasBinary("shorewall") && hasBinary("unshare") && process.getuid?.() === 0;
const note =
  skipNote("shorewall", "unshare") || (canRun ? "" : " (SKIPPED: needs root for unshare --net)");
let cleanup = () => {};
afterEach(() => cleanup());

/** A private copy of the fixture dir, LOGFILE moved into it, ready for candidate rules/params. */
function configDir(): {
  dir: string;
  read: (f: string) => string;
  write: (f: string, s: string) => void;
} {
  const tmp = tempDir();
  cleanup = tmp.cleanup;
  const dir = join(tmp.dir, "shorewall");
  cpSync(join(FIXTURE, "etc/shorewall"), dir, { recursive: true });
  if (!existsSync(join(dir, "capabilities")))
    throw new Error("refusing to run shorewall check without a capabilities file");
  const conf = join(dir, "shorewall.conf");
  writeFileSync(
    conf,
    readFileSync(conf, "utf8").replace(/^LOGFILE=.*$/m, `LOGFILE=${dir}/messages`),
  );
  writeFileSync(join(dir, "messages"), "");
  return {
    dir,
    read: (f) => readFileSync(join(dir, f), "utf8"),
    write: (f, s) => writeFileSync(join(dir, f), s),
  };
}

describe.skipIf(!canRun)(`shorewall check (real, unshare --net + capabilities)${note}`, () => {
  it("accepts the fixture as the admin left it", async () => {
    const c = configDir();
    const out = await validateShorewall(runner, c.dir);
    expect(out).toContain("Shorewall configuration verified");
  });

  it("accepts farmctl's DNAT rule and param", async () => {
    const c = configDir();
    c.write("rules", shorewall.addRule(c.read("rules"), DEV, shorewall.renderRule(t, DEV)));
    c.write("params", shorewall.addParam(c.read("params"), DEV, shorewall.renderParam(t, DEV)));
    const out = await validateShorewall(runner, c.dir, { file: join(c.dir, "rules") });
    expect(out).toContain("Shorewall configuration verified");
    expect(shorewall.usedPorts(c.read("rules"))).toEqual([22005, 22006]);
  });

  it("accepts them after files without final newline", async () => {
    const c = configDir();
    c.write(
      "rules",
      shorewall.addRule(c.read("rules").trimEnd(), DEV, shorewall.renderRule(t, DEV)),
    );
    c.write(
      "params",
      shorewall.addParam(c.read("params").trimEnd(), DEV, shorewall.renderParam(t, DEV)),
    );
    await validateShorewall(runner, c.dir);
  });

  it("refuses a rule whose param is missing, with shorewall's message", async () => {
    const c = configDir();
    c.write("rules", shorewall.addRule(c.read("rules"), DEV, shorewall.renderRule(t, DEV)));
    const err = await validateShorewall(runner, c.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).hint).toMatch(
      /ERROR: Undefined shell variable \(\$VM_GALLIFREY_DEV_XIVO\) \S+\/rules \(line \d+\)/,
    );
    expect((err as ValidationFailed).details?.checker).toEqual([
      "unshare",
      "--net",
      "shorewall",
      "check",
      c.dir,
    ]);
  });

  it("refuses a broken rule with shorewall's message", async () => {
    const c = configDir();
    c.write("params", shorewall.addParam(c.read("params"), DEV, shorewall.renderParam(t, DEV)));
    const broken = "DNAT\tnet\tloc:$VM_GALLIFREY_DEV_XIVO:22\ttcp\t99999\t-\t$IP_FAILOVER";
    c.write("rules", shorewall.addRule(c.read("rules"), DEV, broken));
    const err = await validateShorewall(runner, c.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect((err as ValidationFailed).hint).toMatch(/ERROR: .*99999.*\(line \d+\)/);
  });
});
