// farmctl's per-VM blocks: "<comment> farmctl begin <fqdn>" ... "<comment> farmctl end <fqdn>".
// Everything outside them is the admin's and is kept byte for byte; add then remove is the identity.
import { AlreadyExists, BadInput } from "../../api/errors.js";
import { checkFqdn } from "./entry.js";

export interface Block {
  fqdn: string;
  /** Offset of the begin marker line. */
  start: number;
  /** Offset just past the end marker line (and its newline, if any). */
  end: number;
  /** The lines between the markers, each ending in "\n". */
  body: string;
}

export function markers(comment: string, fqdn: string): { begin: string; end: string } {
  return { begin: `${comment} farmctl begin ${fqdn}`, end: `${comment} farmctl end ${fqdn}` };
}

interface Line {
  start: number;
  /** Offset past the line's "\n", or text.length for a last line without one. */
  next: number;
  /** The line without its newline and trailing blanks (tolerates CRLF and editors' spaces). */
  key: string;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const next = nl < 0 ? text.length : nl + 1;
    out.push({ start, next, key: text.slice(start, nl < 0 ? text.length : nl).trimEnd() });
    start = next;
  }
  return out;
}

/** The first whole line equal to `key` (as lines() keys it) from offset `from`; found with
 *  indexOf, not by splitting the file: audit looks up 1,000 VMs' blocks in files of 1,000 blocks. */
function findLine(text: string, key: string, from: number): Line | undefined {
  for (let pos = text.indexOf(key, from); pos >= 0; pos = text.indexOf(key, pos + 1)) {
    if (pos > 0 && text[pos - 1] !== "\n") continue;
    const nl = text.indexOf("\n", pos);
    const lineEnd = nl < 0 ? text.length : nl;
    if (text.slice(pos, lineEnd).trimEnd() === key)
      return { start: pos, next: nl < 0 ? text.length : nl + 1, key };
  }
  return undefined;
}

/** farmctl's block for fqdn, or undefined; a begin marker without its end is a hand-damaged file. */
export function findBlock(text: string, comment: string, fqdn: string): Block | undefined {
  checkFqdn(fqdn);
  const m = markers(comment, fqdn);
  const begin = findLine(text, m.begin, 0);
  if (!begin) return undefined;
  const end = findLine(text, m.end, begin.next);
  if (!end) {
    throw new BadInput(
      `farmctl's block for ${fqdn} has no end marker`,
      `repair the file by hand: add "${m.end}" after the entry or delete "${m.begin}"`,
    );
  }
  return { fqdn, start: begin.start, end: end.next, body: text.slice(begin.next, end.start) };
}

/** The fqdns of every farmctl block in the text, in file order. */
export function blockNames(text: string, comment: string): string[] {
  const prefix = `${comment} farmctl begin `;
  return lines(text)
    .filter((l) => l.key.startsWith(prefix))
    .map((l) => l.key.slice(prefix.length));
}

/** A rendered fragment normalised to whole lines, checked not to smuggle in a marker. */
function normalise(rendered: string, comment: string): string {
  const body = rendered.replace(/^(?:[ \t]*\r?\n)+/, "").trimEnd();
  if (!body) throw new BadInput("rendered fragment is empty", "check the template");
  if (body.split("\n").some((l) => l.trim().startsWith(`${comment} farmctl `))) {
    throw new BadInput("rendered fragment contains a farmctl marker", "check the template");
  }
  return body + "\n";
}

/**
 * Inserts the block at `at` (a line start; default: end of text). Adding the same block again is
 * a no-op (steps are idempotent); a different block for the same fqdn is refused.
 */
export function addBlock(
  text: string,
  comment: string,
  fqdn: string,
  rendered: string,
  at?: number,
): string {
  const m = markers(comment, fqdn);
  const block = `${m.begin}\n${normalise(rendered, comment)}${m.end}\n`;
  const old = findBlock(text, comment, fqdn);
  if (old) {
    if (text.slice(old.start, old.end).replace(/\n?$/, "\n") === block) return text;
    throw new AlreadyExists(
      `${fqdn} already has a different farmctl entry`,
      `remove it first (farmctl destroy) or edit the file by hand`,
    );
  }
  if (at !== undefined && at < text.length) {
    if (at !== 0 && text[at - 1] !== "\n")
      throw new Error(`insertion point ${at} is not a line start`);
    return text.slice(0, at) + block + text.slice(at);
  }
  if (text === "" || text.endsWith("\n")) return text + block;
  // A file without a final newline keeps that style: the block owns the newline before it.
  return text + "\n" + block.slice(0, -1);
}

/** Exact inverse of addBlock; absent block = text unchanged (undo is idempotent). */
export function removeBlock(text: string, comment: string, fqdn: string): string {
  const b = findBlock(text, comment, fqdn);
  if (!b) return text;
  const ownsNewlineBefore = b.end === text.length && !text.endsWith("\n") && b.start > 0;
  return text.slice(0, ownsNewlineBefore ? b.start - 1 : b.start) + text.slice(b.end);
}
