// Prints each figure of `npm run bench` as `<figure>: X.XX (target <= T)` (or `>=` for a figure
// that must reach its target, with its unit where it has one) and then `N passed, N failed` (and `N reported`: figures the issue asks to report only). A
// figure short of its target is a failed figure, not a failed command: this exits 1 only when the
// run itself broke (argv[2]: the build's and vitest's exit status, a test that failed, or no
// figure at all). The format is figure.ts's figureText (this script runs without a build).
import { existsSync, readFileSync, rmSync } from "node:fs";

const file = new URL("../.cache/bench-results.json", import.meta.url);
const status = Number(process.argv[2] ?? 0);
if (!existsSync(file)) {
  console.error(`bench: no results (the build or vitest did not run; exit ${status}; see above)`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
rmSync(file); // a later run that breaks before vitest must not print these again

export function figureText(f) {
  const unit = f.unit ? ` ${f.unit}` : "";
  if (f.goal === "report") return `${f.value.toFixed(f.unit ? 0 : 2)}${unit} (reported, no target)`;
  const digits = f.unit ? (Math.abs(f.target) >= 10 ? 0 : 1) : 2;
  const op = f.goal === "min" ? ">=" : "<=";
  return `${f.value.toFixed(digits)}${unit} (target ${op} ${f.target.toFixed(digits)}${unit})`;
}

let passed = 0;
let failed = 0;
let reported = 0;
let broke = status !== 0;
for (const a of r.testResults.flatMap((f) => f.assertionResults)) {
  const figures = a.meta?.figures ?? [];
  if (a.status !== "passed" || figures.length === 0) {
    console.log(`${a.title}: not measured, the run failed (${a.status}; see above)`);
    failed += 1;
    broke = true;
    continue;
  }
  for (const f of figures) {
    const ok = f.goal === "min" ? f.value >= f.target : f.value <= f.target;
    console.log(`${f.name}: ${figureText(f)}`);
    if (f.goal === "report") reported += 1;
    else if (ok) passed += 1;
    else failed += 1;
  }
}
if (passed + failed + reported === 0) broke = true;
console.log(`${passed} passed, ${failed} failed${reported ? `, ${reported} reported` : ""}`);
process.exit(broke ? 1 : 0);
