// `farmctl log [--since 1h|ISO] [--limit N]`: farmd's audit log, who changed (or tried) what.
import { Command, Option } from "commander";
import type { AuditEntry } from "../api/auth.js";
import { EXIT, FarmError } from "../api/errors.js";
import { ISO_TIME } from "../api/routes.js";
import { connect } from "../client/connect.js";
import { printJson } from "./output.js";
import { table } from "./table.js";

const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/** --since: a duration back from now (30m, 1h, 2d) or an ISO 8601 time; the ISO time to ask for. */
export function sinceTime(since: string, now = Date.now()): string {
  const ago = /^(\d{1,6})([smhd])$/.exec(since);
  if (ago) return new Date(now - Number(ago[1]) * UNIT_MS[ago[2]!]!).toISOString();
  if (ISO_TIME.test(since) && !Number.isNaN(Date.parse(since))) return since;
  throw new FarmError(
    "bad_usage",
    `--since '${since}' is neither a duration nor an ISO 8601 time`,
    EXIT.badUsage,
    "give a duration like 30m, 1h or 2d, or a time like 2026-12-02T17:00:00Z",
  );
}

function limitOf(v: string): number {
  if (!/^\d{1,5}$/.test(v) || Number(v) < 1 || Number(v) > 10000)
    throw new FarmError("bad_usage", `--limit '${v}' is not 1 to 10000`, EXIT.badUsage);
  return Number(v);
}

export function logTable(entries: AuditEntry[]): string {
  return table(
    ["TIME", "OWNER", "ROLE", "REQUEST", "TARGET", "OP", "RESULT"],
    entries.map((e) => [
      e.time,
      e.owner,
      e.role,
      `${e.method} ${e.route}`,
      e.target ?? "-",
      e.opId ?? "-",
      `${e.status}${e.code ? ` ${e.code}` : ""}`,
    ]),
  );
}

export function registerLog(program: Command): void {
  program
    .command("log")
    .description("farmd's audit log: every request that changes something, answered or refused")
    .option("--since <when>", "from this long ago (30m, 1h, 2d) or this ISO 8601 time on")
    .option("--limit <n>", "the last N entries (1 to 10000)", "1000")
    .option("--json", "print one JSON document on stdout")
    .addOption(new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG"))
    .action(async (o: { since?: string; limit: string; json?: boolean; config?: string }) => {
      const since = o.since === undefined ? undefined : sinceTime(o.since);
      const entries = await connect({ configPath: o.config }).auditLog(since, limitOf(o.limit));
      if (o.json) printJson({ ok: true, entries });
      else process.stdout.write(logTable(entries));
    });
}
