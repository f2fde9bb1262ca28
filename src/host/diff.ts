// A unified diff of two texts (for --dry-run plans); LCS over lines, fine for config-file sizes.
export function unifiedDiff(
  path: string,
  before: string | null,
  after: string | null,
  context = 3,
): string {
  const a = splitLines(before ?? "");
  const b = splitLines(after ?? "");
  const ops = diffLines(a, b);
  if (!ops.some((o) => o.kind !== " ")) return "";
  const header = `--- ${before === null ? "/dev/null" : path}\n+++ ${after === null ? "/dev/null" : path}\n`;
  return header + hunks(ops, context).join("");
}

interface Op {
  kind: " " | "-" | "+";
  line: string;
  ai: number;
  bi: number;
}

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  else lines[lines.length - 1] += "\n\\ No newline at end of file";
  return lines;
}

function diffLines(a: string[], b: string[]): Op[] {
  // Trim the common head and tail first: config edits touch a few lines of long files.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  )
    tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const lcs: number[][] = Array.from({ length: am.length + 1 }, () =>
    new Array<number>(bm.length + 1).fill(0),
  );
  for (let i = am.length - 1; i >= 0; i--)
    for (let j = bm.length - 1; j >= 0; j--)
      lcs[i]![j] =
        am[i] === bm[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Op[] = [];
  for (let k = 0; k < head; k++) ops.push({ kind: " ", line: a[k]!, ai: k, bi: k });
  let i = 0;
  let j = 0;
  while (i < am.length || j < bm.length) {
    if (i < am.length && j < bm.length && am[i] === bm[j])
      ops.push({ kind: " ", line: am[i]!, ai: head + i++, bi: head + j++ });
    else if (j < bm.length && (i === am.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!))
      ops.push({ kind: "+", line: bm[j]!, ai: head + i, bi: head + j++ });
    else ops.push({ kind: "-", line: am[i]!, ai: head + i++, bi: head + j });
  }
  for (let k = 0; k < tail; k++)
    ops.push({
      kind: " ",
      line: a[a.length - tail + k]!,
      ai: a.length - tail + k,
      bi: b.length - tail + k,
    });
  return ops;
}

function hunks(ops: Op[], context: number): string[] {
  const out: string[] = [];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === " ") k++;
    if (k >= ops.length) break;
    const start = Math.max(0, k - context);
    let end = k;
    // Extend while the next change is within 2*context unchanged lines.
    for (let gap = 0; end < ops.length && gap <= 2 * context; end++)
      gap = ops[end]!.kind === " " ? gap + 1 : 0;
    end = Math.min(ops.length, end - Math.max(0, countTrailingSame(ops, end) - context));
    const slice = ops.slice(start, end);
    const aLen = slice.filter((o) => o.kind !== "+").length;
    const bLen = slice.filter((o) => o.kind !== "-").length;
    const aStart = aLen ? slice.find((o) => o.kind !== "+")!.ai + 1 : slice[0]!.ai;
    const bStart = bLen ? slice.find((o) => o.kind !== "-")!.bi + 1 : slice[0]!.bi;
    out.push(
      `@@ -${aStart},${aLen} +${bStart},${bLen} @@\n` +
        slice.map((o) => `${o.kind}${o.line}\n`).join(""),
    );
    k = end;
  }
  return out;
}

function countTrailingSame(ops: Op[], end: number): number {
  let n = 0;
  while (end - 1 - n >= 0 && ops[end - 1 - n]!.kind === " ") n++;
  return n;
}
