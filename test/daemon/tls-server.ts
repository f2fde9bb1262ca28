// farmd's TLS listener over the simulated host01 (next to its unix socket) with its real CA, the
// client certificates that CA issues, and raw HTTPS calls.
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import type { Role } from "../../src/api/auth.js";
import { parseConfig } from "../../src/config/load.js";
import { startTlsListener, type TlsListener } from "../../src/daemon/tls.js";
import type { ServedFarmd } from "./farmd-server.js";
import type { CertFiles } from "./tls-certs.js";

export const LOOPBACK_NAMES = ["localhost", "127.0.0.1"];

/** The listener on 127.0.0.1 (a free port), [api] keys from `apiToml` over the defaults; the CA
 *  is initialised first. */
export async function serveTls(served: ServedFarmd, apiToml = ""): Promise<TlsListener> {
  await served.ca.init();
  const { api } = parseConfig(`[api]\nlisten = "127.0.0.1:0"\n${apiToml}`, "test");
  return startTlsListener({
    api,
    address: { host: "127.0.0.1", port: 0 },
    names: LOOPBACK_NAMES,
    ops: served.ops,
    ca: served.ca,
    log: (l, m) => served.logs.push(`${l}: ${m}`),
  });
}

/** A certificate from farmd's CA written as `farmctl ca issue --out dir` writes it. */
export async function issueFiles(
  served: ServedFarmd,
  dir: string,
  name: string,
  role: Role,
  limits: { sources?: string[]; maxVms?: number } = {},
): Promise<CertFiles> {
  const issued = await served.ca.issue({ name, role, ...limits });
  const files = { name, pemFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  writeFileSync(files.pemFile, issued.certPem);
  writeFileSync(files.keyFile, issued.keyPem, { mode: 0o600 });
  return files;
}

export interface TlsAnswer {
  status: number;
  body: string;
}

/** One HTTPS request with `client`'s certificate (none: null), farmd's CA trusted. */
export function tlsCall(
  url: string,
  served: ServedFarmd,
  client: CertFiles | null,
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
        ca: served.ca.required().caPem,
        servername: "localhost",
        ...(client && { cert: readFileSync(client.pemFile), key: readFileSync(client.keyFile) }),
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

/** Waits until `check` holds: farmd's own state (its log, its count of connections), not a delay. */
export async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`still not so after 5 s: ${what}`);
}
