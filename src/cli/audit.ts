// `farmctl audit [--fix]`, `farmctl import NAME`, `farmctl balloon NAME SIZE`.
import { Command, Option } from "commander";
import type { AuditReport, Finding } from "../api/inventory.js";
import type { ImportResult } from "../api/vm.js";
import { BadInput } from "../api/errors.js";
import { connect } from "../client/connect.js";
import { followToEnd } from "../client/http.js";
import { reportOperation } from "./follow.js";
import { formatBytes } from "./format.js";
import { printJson } from "./output.js";
import { confirm } from "./prompt.js";

const configOption = () => new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG");

function findingsText(findings: Finding[]): string {
  return (
    findings
      .map(
        (f) =>
          `${f.severity.toUpperCase().padEnd(7)} ${f.vm ?? "-"}: ${f.message}\n        fix: ${f.fix}`,
      )
      .join("\n") + (findings.length ? "\n" : "")
  );
}

export function registerAudit(program: Command): void {
  program
    .command("audit")
    .description("compare the inventory with the host; exit 0 when clean, 1 when something drifted")
    .option(
      "--fix",
      "repair what is safe (re-add a missing entry, remove a left snapshot), after showing the plan",
    )
    .option("-y, --yes", "with --fix: do not ask for confirmation")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (o: { fix?: boolean; yes?: boolean; json?: boolean; config?: string }) => {
      const client = connect({ configPath: o.config });
      let report: AuditReport = await client.audit(false);
      const fixable = report.findings.filter((f) => f.repair);
      if (o.fix && fixable.length) {
        if (!o.json)
          process.stdout.write(
            `${findingsText(report.findings)}\nfarmctl can repair:\n${fixable.map((f) => `  - ${f.message}`).join("\n")}\n`,
          );
        if (!o.yes) {
          if (!process.stdin.isTTY)
            throw new BadInput(
              "refusing to repair without confirmation",
              "add --yes when no one is at a terminal to answer",
            );
          if (!(await confirm("repair these? [y/N] "))) return void (process.exitCode = 1);
        }
        // The repairs run as a `fix` operation under farmd's locks; followed to its report.
        report = await followToEnd<AuditReport>(
          client.events(await client.startFix(), true),
          () => {},
        );
      }
      if (o.json) printJson({ ok: report.clean, ...report });
      else if (report.clean)
        process.stdout.write(
          `${report.repaired.length ? `repaired ${report.repaired.length} finding(s); ` : ""}clean: the inventory and the host agree\n`,
        );
      else
        process.stdout.write(
          (o.fix && report.repaired.length ? `repaired ${report.repaired.length}; still:\n` : "") +
            findingsText(report.findings),
        );
      if (!report.clean) process.exitCode = 1;
    });

  program
    .command("import")
    .description(
      "take a VM made by hand into the inventory (its hand-written lines get farmctl's markers)",
    )
    .argument("<name>", "short name of the VM, e.g. gallifrey")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (name: string, o: { json?: boolean; config?: string }) => {
      const client = connect({ configPath: o.config });
      await reportOperation<ImportResult>(
        client,
        await client.startImport({ name }),
        o,
        (r) =>
          `imported ${r.instance}: ${r.ip}, ${r.mac}, SSH port ${r.sshPort}${r.webName ? `, web ${r.webName}` : ""}\n`,
      );
    });

  program
    .command("balloon")
    .description(
      "change a running VM's memory through its monitor and report what the guest reached",
    )
    .argument("<name>", "short name of the VM")
    .argument("<size>", "memory to leave the guest, e.g. 1G or 1536M")
    .option("--force", "balloon a VM farmctl did not make (made by hand, not imported)")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(
      async (
        name: string,
        size: string,
        o: { json?: boolean; force?: boolean; config?: string },
      ) => {
        const r = await connect({ configPath: o.config }).balloon(name, size, Boolean(o.force));
        if (o.json) return printJson({ ok: true, result: r });
        const reached =
          r.reachedBytes === null ? "unknown (no balloon device)" : formatBytes(r.reachedBytes);
        process.stdout.write(
          `${r.instance}: asked ${formatBytes(r.targetBytes)}, the guest holds ${reached}\n`,
        );
        if (r.warning) process.stderr.write(`warning: ${r.warning}\n`);
      },
    );
}
