// farmd's TLS listener over the simulated host01 (next to its unix socket), and raw HTTPS calls.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { parseConfig } from "../../src/config/load.js";
import { startTlsListener, type TlsListener } from "../../src/daemon/tls.js";
import type { ServedFarmd } from "./farmd-server.js";
import type { IssuedCert, TestCa } from "./tls-certs.js";

export const LOOPBACK_NAMES = ["localhost", "127.0.0.1"];

/** The listener on 127.0.0.1 (a free port), with [api] keys from `apiToml` over the defaults. */
export async function serveTls(
  served: ServedFarmd,
  ca: TestCa,
  apiToml = "",
): Promise<TlsListener> {
  const { api } = parseConfig(`[api]\nlisten = "127.0.0.1:0"\n${apiToml}`, "test");
  return startTlsListener({
    api,
    address: { host: "127.0.0.1", port: 0 },
    names: LOOPBACK_NAMES,
    ops: served.ops,
    ca,
    log: (l, m) => served.logs.push(`${l}: ${m}`),
  });
}

export interface TlsAnswer {
  status: number;
  body: string;
}

/** One HTTPS request with `client`'s certificate (none: null), farmd's CA trusted. */
export function tlsCall(
  url: string,
  ca: TestCa,
  client: IssuedCert | null,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<TlsAnswer> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        method,
        path,
        headers,
        agent: false,
        ca: ca.caPem,
        servername: "localhost",
        ...(client && {
          cert: readFileSync(client.certFile),
          key: readFileSync(client.keyFile),
        }),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode!, body: text }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
