// QEMU's human monitor (HMP), the `<instance>.monitor` socket of Ganeti 3.0: a line-editing
// terminal, so replies carry the banner, the prompt and a redrawn echo of every typed key.
import { OperationFailed } from "../api/errors.js";
import { withUnixSocket, type Match } from "./monitor-socket.js";

export const MiB = 1024 * 1024;
const PROMPT = "(qemu) ";
const BANNER = /^QEMU .* monitor - type 'help' for more information$/;
// CSI sequences: readline's erase-line (ESC [ K) and cursor-left (ESC [ D) among them.
const CSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The lines QEMU printed, without banner, prompts, echo or terminal escapes. */
export function stripHmpJunk(raw: string): string {
  const lines: string[] = [];
  for (let line of raw.replace(/\r/g, "").split("\n")) {
    // The echo redraws the line after each key, each redraw ending in erase-line: keep what follows the last.
    const lastErase = line.lastIndexOf("\x1b[K");
    if (lastErase >= 0) line = line.slice(lastErase + 3);
    line = line.replace(CSI, "");
    line = line.replace(/^(\(qemu\) ?)+/, "");
    if (BANNER.test(line) || line.trim() === "") continue;
    lines.push(line.trimEnd());
  }
  return lines.join("\n");
}

/** Splits a raw transcript after its first prompt, i.e. at the point QEMU waits for a command. */
export function matchPrompt(unread: string): Match<string> | undefined {
  const at = unread.indexOf(PROMPT);
  return at < 0 ? undefined : { value: unread.slice(0, at), used: at + PROMPT.length };
}

export const NO_BALLOON = "No balloon device has been activated";

/** `info balloon` → bytes; null when QEMU has no balloon device. HMP speaks whole MiB. */
export function parseInfoBalloon(text: string): number | null {
  const m = /^balloon: actual=(\d+)/m.exec(text);
  if (m?.[1]) return Number(m[1]) * MiB;
  if (text.includes(NO_BALLOON)) return null;
  throw unexpected("info balloon", text);
}

/** `balloon N` prints nothing when accepted; false when QEMU has no balloon device. */
export function parseBalloonReply(text: string): boolean {
  if (text.trim() === "") return true;
  if (text.includes(NO_BALLOON)) return false;
  throw unexpected("balloon", text);
}

function unexpected(command: string, text: string): OperationFailed {
  return new OperationFailed(
    `QEMU's monitor refused '${command}': ${text.split("\n")[0] ?? ""}`,
    "check that the instance runs QEMU with a virtio-balloon device",
    { command, reply: text },
  );
}

/** Sends one command and returns its cleaned output. */
export async function hmpCommand(
  path: string,
  command: string,
  timeoutMs: number,
): Promise<string> {
  if (/[\r\n]/.test(command))
    throw new Error(`HMP command must be one line: ${JSON.stringify(command)}`);
  return withUnixSocket(path, timeoutMs, async (io) => {
    await io.read(matchPrompt); // banner, then the first prompt: QEMU is ready
    io.write(`${command}\n`);
    // The echo and the output end at the next prompt.
    return stripHmpJunk(await io.read(matchPrompt));
  });
}
