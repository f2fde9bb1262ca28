// The exact lines a VM owns in a config file: farmctl's block, or the hand-written lines that name it.
import { BadInput } from "../../api/errors.js";
import type { Block } from "../confedit/blocks.js";

/** One VM's entry as a family finds it: farmctl's block (and the values in it) or hand-written lines. */
export interface Inspection {
  /** farmctl's entry is complete (both shorewall blocks; nginx site and its symlink). */
  present: boolean;
  lines: FileLines[];
  values: { ip?: string; mac?: string; port?: number; webName?: string };
}

export interface FileLines {
  path: string;
  text: string;
  /** True for farmctl's marked block, false for hand-written lines found by name. */
  farmctl: boolean;
}

/** The whole block, markers included, as it stands in the file. */
export function blockLines(path: string, text: string, block: Block): FileLines {
  return { path, text: text.slice(block.start, block.end), farmctl: true };
}

/**
 * Hand-written lines that mention any of `words` as a whole word; a line opening a brace block
 * (dhcpd's `host NAME {`) brings the block's lines up to its closing brace.
 */
export function mentioning(path: string, text: string, words: string[]): FileLines | null {
  const lines = text.split("\n");
  const hits: string[] = [];
  const wanted = words
    .filter(Boolean)
    .map((w) => new RegExp(`(^|[^A-Za-z0-9_.-])${w.replace(/[.$]/g, "\\$&")}($|[^A-Za-z0-9_-])`));
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trimStart().startsWith(";") || line.trimStart().startsWith("#")) continue;
    if (!wanted.some((re) => re.test(line))) continue;
    hits.push(line);
    if (line.includes("{") && !line.includes("}")) {
      while (++i < lines.length) {
        hits.push(lines[i]!);
        if (lines[i]!.includes("}")) break;
      }
    }
  }
  return hits.length ? { path, text: hits.join("\n") + "\n", farmctl: false } : null;
}

/**
 * Wraps hand-written lines (found once, as whole lines) in farmctl's markers, so a VM made by hand
 * can be managed like a clone; the lines themselves stay byte for byte.
 */
export function wrapLines(
  text: string,
  found: string,
  comment: string,
  fqdn: string,
  path: string,
): string {
  const at = text.indexOf(found);
  const whole = at >= 0 && (at === 0 || text[at - 1] === "\n") && text.indexOf(found, at + 1) < 0;
  if (!whole) {
    throw new BadInput(
      `${path}: the lines of ${fqdn} are not one block farmctl can take over`,
      `put them together (or wrap them in "${comment} farmctl begin ${fqdn}" / "${comment} farmctl end ${fqdn}") by hand`,
    );
  }
  const body = found.endsWith("\n") ? found : `${found}\n`;
  return `${text.slice(0, at)}${comment} farmctl begin ${fqdn}\n${body}${comment} farmctl end ${fqdn}\n${text.slice(at + found.length)}`;
}
