// One JSON document on stdout with --json; human text otherwise; errors always name the fix.
import type { FarmError } from "../api/errors.js";

export function printJson(doc: unknown): void {
  process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
}

export function printError(err: FarmError, json: boolean): void {
  if (json) {
    printJson({ ok: false, error: err.toJSON() });
    return;
  }
  process.stderr.write(`farmctl: ${err.message}\n`);
  if (err.hint) process.stderr.write(`  ${err.hint.split("\n").join("\n  ")}\n`);
}
