// Prints each figure of `npm run bench` as `<figure>: X.XX (target <= T)` and then
// `N passed, N failed`. A figure short of its target is a failed figure, not a failed command:
// this exits 1 only when the run itself broke (argv[2]: the build's and vitest's exit status, a
// test that failed, or no figure at all).
import { existsSync, readFileSync, rmSync } from "node:fs";

const file = new URL("../.cache/bench-results.json", import.meta.url);
const status = Number(process.argv[2] ?? 0);
if (!existsSync(file)) {
  console.error(`bench: no results (the build or vitest did not run; exit ${status}; see above)`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
rmSync(file); // a later run that breaks before vitest must not print these again
let passed = 0;
let failed = 0;
let broke = status !== 0;
for (const a of r.testResults.flatMap((f) => f.assertionResults)) {
  const figure = a.meta?.figure;
  if (a.status !== "passed" || !figure) {
    console.log(`${a.title}: not measured, the run failed (${a.status}; see above)`);
    failed += 1;
    broke = true;
    continue;
  }
  const ok = figure.value <= figure.target;
  console.log(`${a.title}: ${figure.value.toFixed(2)} (target <= ${figure.target.toFixed(2)})`);
  if (ok) passed += 1;
  else failed += 1;
}
if (passed + failed === 0) broke = true;
console.log(`${passed} passed, ${failed} failed`);
process.exit(broke ? 1 : 0);
