// A small master-file (RFC 1035) reader: enough to find the SOA serial and every record's owner in
// hand-written zones (comments, parentheses, $ORIGIN, blank owners), never to rewrite them.

export interface Token {
  value: string;
  start: number;
  end: number;
  /** Starts in column 0 outside parentheses: it is an owner name or a $directive. */
  atBol: boolean;
}

/** Logical lines (parenthesised groups joined), comments and quotes removed. */
export function logicalLines(text: string): Token[][] {
  const out: Token[][] = [];
  let cur: Token[] = [];
  let depth = 0;
  let bol = true;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      if (depth === 0 && cur.length) {
        out.push(cur);
        cur = [];
      }
      bol = true;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      bol = false;
      i++;
    } else if (c === ";") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "(" || c === ")") {
      depth = Math.max(0, depth + (c === "(" ? 1 : -1));
      bol = false;
      i++;
    } else {
      const start = i;
      if (c === '"') {
        i++;
        while (i < text.length && text[i] !== '"' && text[i] !== "\n")
          i += text[i] === "\\" ? 2 : 1;
        if (text[i] === '"') i++; // an unterminated quote stops at the line end
      } else {
        while (i < text.length && !/[\s;()"]/.test(text[i]!)) i += text[i] === "\\" ? 2 : 1;
      }
      i = Math.min(i, text.length);
      cur.push({ value: text.slice(start, i), start, end: i, atBol: bol && depth === 0 });
      bol = false;
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

export interface ZoneRecord {
  /** Absolute owner, lowercase, without the trailing dot. */
  owner: string;
  type: string;
  rdata: string[];
}

const CLASS = /^(IN|CH|HS|CS)$/i;
const TTL = /^\d+[smhdw]?(\d+[smhdw])*$/i;

/** Resolves a name as written against the origin ("@", relative, or absolute with a dot). */
export function absolute(name: string, origin: string): string {
  const o = origin.replace(/\.$/, "").toLowerCase();
  if (name === "@") return o;
  if (name.endsWith(".")) return name.slice(0, -1).toLowerCase();
  return (o ? `${name}.${o}` : name).toLowerCase();
}

/** Every record with its absolute owner; `origin` is the zone's name ("farm"). */
export function records(text: string, origin: string): ZoneRecord[] {
  const out: ZoneRecord[] = [];
  let org = absolute(origin, "");
  let owner = org;
  for (const line of logicalLines(text)) {
    const first = line[0]!;
    if (first.atBol && first.value.startsWith("$")) {
      if (first.value.toUpperCase() === "$ORIGIN" && line[1]) org = absolute(line[1].value, org);
      continue;
    }
    let k = 0;
    if (first.atBol) {
      owner = absolute(first.value, org);
      k = 1;
    }
    while (k < line.length && (CLASS.test(line[k]!.value) || TTL.test(line[k]!.value))) k++;
    const type = line[k];
    if (!type) continue;
    out.push({
      owner,
      type: type.value.toUpperCase(),
      rdata: line.slice(k + 1).map((t) => t.value),
    });
  }
  return out;
}

/** The origin in effect at the end of the file, or undefined when the file never sets one. */
export function finalOrigin(text: string, origin: string): string | undefined {
  let org: string | undefined;
  for (const line of logicalLines(text)) {
    const [d, v] = line;
    if (d?.atBol && d.value.toUpperCase() === "$ORIGIN" && v)
      org = absolute(v.value, org ?? origin);
  }
  return org;
}

/** The SOA serial token: the third field after the SOA type, parentheses skipped. */
export function findSerial(text: string): Token | undefined {
  for (const line of logicalLines(text)) {
    for (let k = 0; k < line.length; k++) {
      if (line[k]!.value.toUpperCase() !== "SOA") continue;
      const serial = line[k + 3];
      if (serial && /^\d+$/.test(serial.value)) return serial;
    }
  }
  return undefined;
}
