// Tokens of brace-and-semicolon configs (dhcpd.conf, nginx): "#" comments dropped, quoted strings
// kept whole, punctuation as its own token; enough to read hand-written entries.

export interface ConfToken {
  value: string;
  quoted: boolean;
}

export function tokenize(text: string, punct = "{};,"): ConfToken[] {
  const out: ConfToken[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (punct.includes(c)) {
      out.push({ value: c, quoted: false });
      i++;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
      out.push({ value: text.slice(i + 1, Math.min(j, text.length)), quoted: true });
      i = j + 1;
    } else {
      let j = i;
      while (
        j < text.length &&
        !/\s/.test(text[j]!) &&
        !punct.includes(text[j]!) &&
        text[j] !== "#"
      ) {
        j++;
      }
      out.push({ value: text.slice(i, j), quoted: false });
      i = j;
    }
  }
  return out;
}

/** The values of every `keyword a b, c;` statement (commas dropped), in file order. */
export function statements(tokens: ConfToken[], keyword: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < tokens.length; i++) {
    const prev = tokens[i - 1];
    if (prev && (prev.quoted || !"{};".includes(prev.value))) continue; // not a statement start
    if (!keyword.every((k, n) => tokens[i + n]?.value === k && !tokens[i + n]?.quoted)) continue;
    const vals: string[] = [];
    let j = i + keyword.length;
    for (; j < tokens.length && tokens[j]!.value !== ";"; j++) {
      const t = tokens[j]!;
      if (!t.quoted && "{},".includes(t.value)) {
        if (t.value === ",") continue;
        break;
      }
      vals.push(t.value);
    }
    out.push(vals);
  }
  return out;
}
