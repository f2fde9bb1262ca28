// "did you mean ...": the closest of the valid words to a mistyped one.

/** Spelling aside: case, '_' and '-' ("ssh_port" is "sshPort"). */
const loose = (w: string) => w.toLowerCase().replace(/[_-]/g, "");

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = row;
  }
  return prev[b.length]!;
}

/** The valid word meant by `word`, or undefined when none is close. */
export function closest(word: string, valid: readonly string[]): string | undefined {
  const same = valid.find((v) => loose(v) === loose(word));
  if (same) return same;
  const [best] = valid
    .map((v) => ({ v, d: distance(loose(word), loose(v)) }))
    .filter(({ v, d }) => d <= Math.max(2, Math.floor(v.length / 3)))
    .sort((a, b) => a.d - b.d);
  return best?.v;
}
