// `farmctl doctor [--json]`: what is wrong with this host before a clone fails; changes nothing.
import { Command } from "commander";
import { fail, ok, report, type DoctorCheck, type DoctorReport } from "../api/doctor.js";
import { asFarmError, EXIT } from "../api/errors.js";
import { API_VERSION, VERSION } from "../api/version.js";
import { describeFarmd } from "./version.js";
import { connect } from "../client/connect.js";
import { printJson } from "./output.js";

export function registerDoctor(program: Command): void {
  program
    .command("doctor")
    .description(
      "check this host for what a clone needs (tools, farmd.toml, templates, paths, Ganeti, LVM, farmd); changes nothing",
    )
    .option(
      "--config <file>",
      "farmd.toml to check (default: FARMD_CONFIG, then /etc/farmd/farmd.toml)",
    )
    .option("--json", "one JSON document: {ok, checks: [{id, status, detail, fix}]}")
    .action(async (o: { config?: string; json?: boolean }) => {
      // The host checks are farmd's wiring, loaded here only: the rest of farmctl stays a client.
      const { runDoctor } = await import("../daemon/doctor.js");
      const host = await runDoctor({ configPath: o.config });
      const done = report([...host.checks, await checkFarmd(o.config)]);
      if (o.json) printJson(done);
      else process.stdout.write(renderReport(done));
      process.exitCode = done.ok ? EXIT.ok : EXIT.failed;
    });
}

/** farmd answers on its socket, with its version and an API this farmctl speaks. */
export async function checkFarmd(configPath?: string): Promise<DoctorCheck> {
  try {
    const h = await connect({ configPath }).health();
    if (h.apiVersion !== API_VERSION)
      return fail(
        "farmd",
        `${describeFarmd(h)}, farmctl ${VERSION} speaks API v${API_VERSION}`,
        "install the same version of farmctl and farmd, and restart farmd (`systemctl restart farmd`)",
      );
    return ok("farmd", `farmd ${h.version} (API v${h.apiVersion}, pid ${h.pid}) answers`);
  } catch (err) {
    const e = asFarmError(err);
    return fail("farmd", e.message, e.hint ?? "start farmd (see farmd(8))");
  }
}

// a checker's message spans lines: they stay under their check
const indent = (text: string): string => text.replace(/\n/g, "\n      ");

const MARK = { ok: "ok  ", warn: "warn", fail: "FAIL" } as const;

export function renderReport(r: DoctorReport): string {
  const lines = r.checks.flatMap((c) => [
    `${MARK[c.status]}  ${c.id}: ${indent(c.detail)}`,
    ...(c.fix && c.status !== "ok" ? [`      fix: ${indent(c.fix)}`] : []),
  ]);
  const failed = r.checks.filter((c) => c.status === "fail").length;
  const warned = r.checks.filter((c) => c.status === "warn").length;
  const summary = failed
    ? `${failed} check${failed === 1 ? "" : "s"} failed: fix ${failed === 1 ? "it" : "them"} before a clone`
    : `all ${r.checks.length} checks pass${warned ? ` (${warned} warning${warned === 1 ? "" : "s"})` : ""}`;
  return `${lines.join("\n")}\n${summary}\n`;
}
