// The TCP ports something on the host listens on, from /proc/net/tcp{,6} as farmd's network
// namespace sees them (the host's, or the testbed's): a DNAT there would shadow a host service.
import { readFile } from "node:fs/promises";

export type ProcReader = (path: string) => Promise<string | null>;

const LISTEN = "0A";
export const PROC_NET_TCP = ["/proc/net/tcp", "/proc/net/tcp6"];

/** The local ports of the LISTEN sockets in one /proc/net/tcp or tcp6 table. */
export function parseListening(table: string): number[] {
  const ports = new Set<number>();
  for (const line of table.split("\n").slice(1)) {
    const [, local = "", , state] = line.trim().split(/\s+/);
    const port = /:([0-9A-F]{4})$/i.exec(local)?.[1];
    if (state === LISTEN && port) ports.add(parseInt(port, 16));
  }
  return [...ports].sort((a, b) => a - b);
}

/** A missing table (no IPv6) has no listeners. */
const readProc: ProcReader = (path) =>
  readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return null;
    throw err;
  });

export async function listeningPorts(read: ProcReader = readProc): Promise<number[]> {
  const tables = await Promise.all(PROC_NET_TCP.map(read));
  const ports = tables.flatMap((t) => (t === null ? [] : parseListening(t)));
  return [...new Set(ports)].sort((a, b) => a - b);
}
