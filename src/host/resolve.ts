// Name resolution the way Ganeti does it (getaddrinfo), to wait for a new record before adoption.
import { lookup } from "node:dns/promises";

export type Resolver = (name: string) => Promise<string[]>;

export const systemResolver: Resolver = async (name) => {
  try {
    return (await lookup(name, { all: true, family: 4 })).map((a) => a.address);
  } catch {
    return [];
  }
};

/** Polls until `name` resolves to `ip`; false when the deadline passes first. */
export async function waitForName(
  resolve: Resolver,
  name: string,
  ip: string,
  timeoutMs: number,
  pollMs = 250,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await resolve(name)).includes(ip)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
