// Prints vitest's totals as one plain "N passed, N failed, N skipped" line for CI logs.
import { readFileSync } from "node:fs";

const r = JSON.parse(readFileSync(new URL("../test-results.json", import.meta.url), "utf8"));
const skipped = r.numPendingTests + r.numTodoTests;
console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
