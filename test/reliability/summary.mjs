// Prints one line per figure of `npm run reliability` (a top-level describe; its tests are the
// cells) as `<figure>: N/M`, then `N passed, N failed` over the figures; exits 1 unless all are full.
import { existsSync, readFileSync } from "node:fs";

const file = new URL("../../reliability-results.json", import.meta.url);
if (!existsSync(file)) {
  console.error("reliability: no results (vitest did not run; see above)");
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, "utf8"));
const figures = new Map();
for (const f of r.testResults) {
  // A file that failed to load or whose hooks failed has no cells: a failed figure of its own.
  if (f.status === "failed" && f.assertionResults.every((a) => a.status !== "failed")) {
    const name = `${f.name.replace(/.*\/test\//, "test/")} (file failed)`;
    figures.set(name, { passed: 0, total: 1 });
  }
  for (const a of f.assertionResults) {
    const name = a.ancestorTitles[0] ?? a.title;
    const fig = figures.get(name) ?? { passed: 0, total: 0 };
    fig.total += 1;
    if (a.status === "passed") fig.passed += 1;
    figures.set(name, fig);
  }
}
let passed = 0;
for (const [name, { passed: p, total }] of figures) {
  console.log(`${name}: ${p}/${total}`);
  if (p === total) passed += 1;
}
const failed = figures.size - passed;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && figures.size > 0 ? 0 : 1);
