// farmd's TLS listener: the unix socket's API over HTTPS for clients holding a certificate of
// farmd's CA. TLS 1.3 only; the handshake refuses a client without a valid certificate of that CA,
// and each request is identified from its records (unknown or revoked: 401).
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { Unauthenticated } from "../api/auth.js";
import { Busy, ConfigError, FarmError } from "../api/errors.js";
import { apiNames, parseListen, type ApiConfig, type ListenAddress } from "../config/api.js";
import type { Ca } from "./ca/ca.js";
import type { Log, Operations } from "./operations.js";
import type { Identify } from "./route.js";
import { apiHandler } from "./server.js";

export interface TlsListener {
  server: Server;
  /** https://HOST:PORT, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

/** How often Node looks for requests past headers_timeout / request_timeout. */
const CHECK_INTERVAL_MS = 500;
/** The server certificate is asked for again daily: the CA re-issues it before it expires. */
const REFRESH_MS = 24 * 3600 * 1000;

/** The identity of a request: its connection's client certificate, looked up in the CA's records. */
export function tlsIdentify(ca: Pick<Ca, "verifyPeer">): Identify {
  return async (req) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    if (!peer?.serialNumber)
      throw new Unauthenticated(
        "the connection carries no client certificate",
        "give farmctl --cert and --key (a certificate from `farmctl ca issue`)",
      );
    return ca.verifyPeer({ serialNumber: peer.serialNumber, fingerprint256: peer.fingerprint256 });
  };
}

export async function startTlsListener(o: {
  api: ApiConfig;
  address: ListenAddress;
  names: string[];
  ops: Operations;
  ca: Ca;
  log: Log;
}): Promise<TlsListener> {
  const credentials = async () => {
    const { keyPem, certPem, caPem } = await o.ca.serverCredentials(o.names);
    return { key: keyPem, cert: certPem, ca: caPem };
  };
  const server = createServer(
    {
      ...(await credentials()),
      minVersion: "TLSv1.3",
      requestCert: true,
      rejectUnauthorized: true,
      handshakeTimeout: o.api.handshake_timeout * 1000,
      headersTimeout: o.api.headers_timeout * 1000,
      requestTimeout: o.api.request_timeout * 1000,
      connectionsCheckingInterval: CHECK_INTERVAL_MS,
    },
    apiHandler(o.ops, tlsIdentify(o.ca), o.ca),
  );
  server.maxConnections = o.api.max_connections;
  server.keepAliveTimeout = o.api.idle_timeout * 1000;
  const warn = throttledWarning(o.log);
  // Every connection, handshaken or not, so that close() ends them all.
  const open = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    void socket.remoteAddress; // read while it is up: a refused certificate closes it
  });
  server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
    socket.destroy(); // Node leaves a handshake that timed out open
    const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
    const from = socket.remoteAddress ?? raw?.remoteAddress ?? "an unknown address";
    // Node closes a connection whose certificate fails verification; the reason is kept here.
    const why = socket.authorizationError
      ? `certificate ${socket.authorizationError}`
      : (/routines:[^:]*:([^:]+)/.exec(err.message)?.[1] ?? err.message.trim());
    warn(`handshake ${why}`, `TLS: refused a client from ${from}: ${why}`);
  });
  server.on("drop", (d?: { remoteAddress?: string }) =>
    warn(
      "drop",
      `TLS: closed a connection from ${d?.remoteAddress}: [api] max_connections (${o.api.max_connections}) reached`,
    ),
  );
  server.on("clientError", answerClientError);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.address.port, o.address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const refresh = setInterval(() => {
    credentials().then(
      (c) => server.setSecureContext(c),
      (err: Error) => o.log("warning", `TLS: cannot renew the server certificate: ${err.message}`),
    );
  }, REFRESH_MS).unref();
  const port = (server.address() as { port: number }).port;
  const host = o.address.host.includes(":") ? `[${o.address.host}]` : o.address.host;
  return {
    server,
    url: `https://${host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        clearInterval(refresh);
        server.close(() => resolve());
        for (const socket of open) socket.destroy();
      }),
  };
}

/**
 * farmd's listener as [api] configures it, or null when `listen` is "" or the CA was never
 * initialised (farmd serves its socket then, and says how to start the listener). An address
 * it cannot listen on is refused: busy (75) when in use, else a configuration error (78).
 */
export async function listenFromConfig(o: {
  api: ApiConfig;
  ops: Operations;
  ca: Ca;
  log: Log;
}): Promise<TlsListener | null> {
  const address = parseListen(o.api.listen);
  if (!address) return null;
  if (!o.ca.files()) {
    o.log(
      "warning",
      `not listening on ${o.api.listen} ([api] listen): farmd's CA was never initialised; ` +
        "run `farmctl ca init`: farmd listens as soon as the CA exists",
    );
    return null;
  }
  try {
    return await startTlsListener({ ...o, address, names: apiNames(o.api) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "EADDRINUSE")
      throw new Busy(
        `${o.api.listen} ([api] listen) is in use`,
        "stop what listens there, or change [api] listen",
      );
    if (e.code?.startsWith("EADDR") || e.code === "EACCES" || e.code === "ENOTFOUND")
      throw new ConfigError(
        `cannot listen on ${o.api.listen} ([api] listen): ${e.message}`,
        "give an address of this host in [api] listen; see farmd.toml(5)",
      );
    throw err;
  }
}

/** A request Node's parser refused (malformed, headers too large, too slow): a JSON answer, then close. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
  const [status, reason, e] =
    err.code === "HPE_HEADER_OVERFLOW"
      ? [
          431,
          "Request Header Fields Too Large",
          new FarmError(
            "too_large",
            "request headers are larger than farmd's limit",
            65,
            "send only the headers HTTP needs",
          ),
        ]
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? [
            408,
            "Request Timeout",
            new FarmError(
              "timeout",
              "the request was not received in time ([api] headers_timeout, request_timeout)",
              75,
              "send the whole request at once",
            ),
          ]
        : [
            400,
            "Bad Request",
            new FarmError(
              "bad_request",
              `not a valid HTTP/1.1 request: ${err.message}`,
              64,
              "send HTTP/1.1 requests; see farmd(8) for the API",
            ),
          ];
  const body = JSON.stringify({ error: e.toJSON() }) + "\n";
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** At most one line a minute of each kind: a flood of refused clients must not flood farmd's log. */
function throttledWarning(log: Log, ms = 60_000): (kind: string, message: string) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (kind, message) => {
    const now = Date.now();
    const seen = last.get(kind);
    if (seen && now - seen.at < ms) return void seen.suppressed++;
    last.set(kind, { at: now, suppressed: 0 });
    const more = seen?.suppressed ? ` (and ${seen.suppressed} more since the last such line)` : "";
    log("warning", message + more);
  };
}
