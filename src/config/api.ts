// [api]: farmd's TLS listener for remote clients (issue 11), off unless `listen` is set.
import { hostname } from "node:os";
import { Address6 } from "ip-address";
import { z } from "zod";
import { domain, isIpv4, seconds } from "./checks.js";

export interface ListenAddress {
  /** As given to net.Server#listen: an IPv4 address, a host name, or an IPv6 address without []. */
  host: string;
  port: number;
}

const WILDCARDS = new Set(["0.0.0.0", "::"]);

/** "0.0.0.0:8443", "host01.farm:8443", "[::]:8443"; null if not one of those. */
export function parseListen(s: string): ListenAddress | null {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[3]);
  if (port > 65535) return null;
  if (m[1] !== undefined) return Address6.isValid(m[1]) ? { host: m[1], port } : null;
  const host = m[2]!;
  const ok = isIpv4(host) || (/[a-z]/i.test(host) && isDnsName(host.toLowerCase()));
  return ok ? { host, port } : null;
}

const isDnsName = (s: string) => domain("x").safeParse(s).success;

/** A name the server certificate carries: a lowercase DNS name or an IP address. */
export const isServerName = (s: string) => isDnsName(s) || isIpv4(s) || Address6.isValid(s);

const timeout = (example: string) => seconds(example, 3600);

export const apiSection = z
  .object({
    // "" = no TLS listener.
    listen: z
      .string()
      .refine(
        (s) => s === "" || parseListen(s) !== null,
        'must be "" (off) or HOST:PORT like "0.0.0.0:8443" or "[::]:8443" (port 1-65535; 0: any free port)',
      )
      .default(""),
    // The server certificate's names; unset: this host's name and the listen address (apiNames()).
    names: z
      .array(
        z
          .string()
          .refine(isServerName, "must be a lowercase DNS name like host01.farm or an IP address"),
      )
      .min(1)
      .optional(),
    // Open connections at once (handshaking or not); more are closed as they arrive.
    max_connections: z.number().int().min(1).max(10_000).default(64),
    handshake_timeout: timeout('"10s"').default(10),
    headers_timeout: timeout('"10s"').default(10),
    // Receiving a whole request (headers and body); an event stream's answer is not bounded.
    request_timeout: timeout('"60s"').default(60),
    // A kept-alive connection with no request for this long is closed.
    idle_timeout: timeout('"5s"').default(5),
  })
  .strict()
  .prefault({});

export type ApiConfig = z.infer<typeof apiSection>;

/** The names of farmd's server certificate: [api] names, else this host's name and listen host. */
export function apiNames(api: ApiConfig, host = hostname()): string[] {
  if (api.names) return api.names;
  const listenHost = parseListen(api.listen)?.host.toLowerCase();
  const names = [host.toLowerCase()];
  if (listenHost && !WILDCARDS.has(listenHost) && listenHost !== names[0]) names.push(listenHost);
  return names;
}

/** Checks between [api] keys: each names the key to fix. */
export function apiProblems(api: ApiConfig, host = hostname()): [string, string][] {
  const problems: [string, string][] = [];
  for (const key of ["handshake_timeout", "headers_timeout", "request_timeout", "idle_timeout"])
    if (api[key as keyof ApiConfig] === 0)
      problems.push([key, "must be at least 1 second: 0 would leave a slow client unbounded"]);
  // Node refuses a server whose headers may take longer than the whole request.
  if (api.headers_timeout > api.request_timeout)
    problems.push([
      "headers_timeout",
      `must be at most [api] request_timeout (${api.request_timeout} s)`,
    ]);
  if (api.listen !== "" && !api.names && !isServerName(host.toLowerCase()))
    problems.push([
      "names",
      `unset, it defaults to this host's name '${host}', which is not a DNS name: set names = ["host01.farm"]`,
    ]);
  return problems;
}
