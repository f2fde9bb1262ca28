// One line per event on stderr; under systemd the <N> prefix gives journald the level.
import type { Log } from "./operations.js";

const PRIORITY = { error: 3, warning: 4, info: 6 } as const;

export function stderrLog(env = process.env): Log {
  const journald = Boolean(env.JOURNAL_STREAM);
  return (level, message) => {
    const line = journald
      ? `<${PRIORITY[level]}>${message}`
      : `${new Date().toISOString()} ${level}: ${message}`;
    process.stderr.write(line.replace(/\n/g, " | ") + "\n");
  };
}
