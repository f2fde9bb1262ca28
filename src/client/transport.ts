// How farmctl's requests reach farmd: its unix socket on the host, or its TLS listener from
// anywhere with a client certificate of farmd's CA. Both speak the same HTTP API.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { EXIT, FarmError, Unavailable } from "../api/errors.js";

export interface Transport {
  /** Where farmd answers, for messages: the socket's path or the listener's URL. */
  where: string;
  open(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
  ): Promise<IncomingMessage>;
}

/** A client certificate and what the server's is verified against, as PEM text. */
export interface RemoteCredentials {
  url: URL;
  cert: string;
  key: string;
  /** The CA certificate(s) farmd's server certificate must chain to. */
  ca: string;
  /** The files they came from, for messages. */
  certFile: string;
}

function send(
  request: (o: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest,
  options: RequestOptions,
  body: unknown,
  fail: (err: NodeJS.ErrnoException, handshaken: boolean) => FarmError,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // agent: false: no pooled keep-alive socket that could outlive a farmd restart.
    const req = request(
      { ...options, agent: false, headers: { "content-type": "application/json" } },
      resolve,
    );
    let handshaken = false;
    req.on("socket", (s) => s.once("secureConnect", () => (handshaken = true)));
    req.on("error", (err: NodeJS.ErrnoException) => reject(fail(err, handshaken)));
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

export function unixTransport(socketPath: string): Transport {
  return {
    where: socketPath,
    open: (method, path, body, signal) =>
      send(httpRequest, { socketPath, method, path, signal }, body, (err) =>
        socketError(socketPath, err),
      ),
  };
}

function socketError(socketPath: string, err: NodeJS.ErrnoException): FarmError {
  if (err.code === "ENOENT" || err.code === "ECONNREFUSED") {
    return new Unavailable(
      `farmd is not running (no answer on ${socketPath})`,
      "start it: `systemctl start farmd`, or run `farmd` as root (see farmd(8))",
    );
  }
  if (err.code === "EACCES") {
    return new FarmError(
      "forbidden",
      `not allowed to talk to farmd on ${socketPath}`,
      EXIT.noPerm,
      "run as root, or as a member of the group farmd.toml's socket_group names",
    );
  }
  return new Unavailable(
    `cannot reach farmd on ${socketPath}: ${err.message}`,
    "check that farmd runs (see farmd(8))",
  );
}

export function httpsTransport(c: RemoteCredentials): Transport {
  const base = c.url.pathname.replace(/\/$/, "");
  return {
    where: c.url.origin,
    open: (method, path, body, signal) =>
      send(
        httpsRequest,
        {
          // URL keeps an IPv6 host in brackets; the socket wants it bare.
          host: c.url.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: c.url.port || 443,
          path: base + path,
          method,
          signal,
          cert: c.cert,
          key: c.key,
          ca: c.ca,
          minVersion: "TLSv1.3",
        },
        body,
        (err, handshaken) => tlsError(c, err, handshaken),
      ),
  };
}

/** OpenSSL's verdicts on farmd's certificate, as Node names them. */
const SERVER_UNTRUSTED =
  /^(ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_\w+|CERT_\w+)$/;

/** `handshaken`: farmctl's side of the handshake was done (TLS 1.3 checks its certificate after). */
function tlsError(
  c: RemoteCredentials,
  err: NodeJS.ErrnoException,
  handshaken: boolean,
): FarmError {
  const where = c.url.origin;
  if (err.code && SERVER_UNTRUSTED.test(err.code))
    return new FarmError(
      "server_unverified",
      `farmd's certificate at ${where} is not trusted: ${err.message}`,
      EXIT.noPerm,
      "give --ca FILE with farmd's CA certificate (the one `farmctl ca issue` writes after the leaf in " +
        "NAME.pem), and a --remote host name the server certificate carries ([api] names in farmd.toml)",
    );
  // The server's TLS alert: this client's certificate was refused at the handshake.
  if (err.code?.startsWith("ERR_SSL_") || (err.code === "ECONNRESET" && handshaken))
    return new FarmError(
      "handshake_refused",
      `farmd at ${where} refused the client certificate ${c.certFile}: ${err.message}`,
      EXIT.noPerm,
      "use a certificate and key from `farmctl ca issue` by this farmd's CA, not expired " +
        "(`farmctl ca list` on the host shows them); check that --key matches --cert",
    );
  if (err.code === "ECONNRESET")
    return new FarmError(
      "busy",
      `farmd at ${where} closed the connection before the TLS handshake: ${err.message}`,
      EXIT.tempFail,
      "its [api] max_connections may be reached: try again shortly",
    );
  return new Unavailable(
    `cannot reach farmd at ${where}: ${err.message}`,
    "check the --remote URL and that farmd's [api] listen is set (see farmd(8))",
  );
}
