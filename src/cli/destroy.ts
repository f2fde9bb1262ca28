// `farmctl destroy NAME`: the clone in reverse, after a confirmation (or --yes).
import { Command, Option } from "commander";
import type { DestroyResult } from "../api/destroy.js";
import { BadInput } from "../api/errors.js";
import { connect } from "../client/connect.js";
import { confirm } from "./prompt.js";
import { follow, reportOperation } from "./follow.js";
import { printJson } from "./output.js";

interface DestroyOptions {
  yes?: boolean;
  force?: boolean;
  dryRun?: boolean;
  detach?: boolean;
  json?: boolean;
  config?: string;
}

function summary(r: DestroyResult): string {
  const lines = [`destroyed ${r.name} (operation ${r.opId})`, `  instance  ${r.instance} removed`];
  if (r.lv) lines.push(`  disk      ${r.lv} removed with it`);
  if (r.ip) lines.push(`  released  ${r.ip} and its MAC and SSH port`);
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  if (r.leftInFiles.length)
    lines.push(
      "left for you to remove:",
      ...r.leftInFiles.map((l) => `  ${l.replace(/\n/g, "\n    ")}`),
    );
  return lines.join("\n") + "\n";
}

export function registerDestroy(program: Command): void {
  program
    .command("destroy")
    .description(
      "remove a VM farmctl made: shut it down, remove the instance and its disk, its DNS, DHCP, firewall and proxy entries",
    )
    .argument("<name>", "short name of the VM, e.g. gallifrey-dev")
    .option("-y, --yes", "do not ask for confirmation")
    .option(
      "--force",
      "also destroy a VM farmctl did not make (its hand-written config lines are left)",
    )
    .option("--dry-run", "print every command and file diff; change nothing")
    .option("--detach", "print the operation id and return")
    .option("--json", "print one JSON document on stdout")
    .addOption(new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG"))
    .action(async (name: string, o: DestroyOptions) => {
      const client = connect({ configPath: o.config });
      const req = { name, force: Boolean(o.force) };
      if (o.dryRun) {
        const { result } = await follow<DestroyResult>(
          null,
          () => client.planDestroy(req),
          Boolean(o.json),
          true,
        );
        if (o.json) printJson({ ok: true, dryRun: true, result });
        else
          process.stdout.write(
            `dry run: nothing was changed. This would destroy ${result!.instance}.\n`,
          );
        return;
      }
      if (!o.yes) {
        if (!process.stdin.isTTY)
          throw new BadInput(
            `refusing to destroy ${name} without confirmation`,
            "add --yes when no one is at a terminal to answer",
          );
        if (!(await confirm(`destroy ${name}: its instance, its disk and its entries? [y/N] `))) {
          process.stderr.write("nothing done\n");
          return;
        }
      }
      await reportOperation(client, await client.startDestroy(req), o, summary);
    });
}
