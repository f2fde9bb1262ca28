// Where a remote farmd is and which certificate farmctl shows it: --remote/--cert/--key/--ca, over
// FARMCTL_REMOTE/_CERT/_KEY/_CA, over ${XDG_CONFIG_HOME:-~/.config}/farmctl/config.toml.
import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { ConfigError, EXIT, FarmError } from "../api/errors.js";
import { describeIssues, parseTomlText } from "../api/toml.js";
import type { RemoteCredentials } from "./transport.js";

export interface RemoteOptions {
  remote?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

const KEYS = ["remote", "cert", "key", "ca"] as const;
type Key = (typeof KEYS)[number];

const fileSchema = z
  .object({ remote: z.string(), cert: z.string(), key: z.string(), ca: z.string() })
  .partial()
  .strict();

export function clientConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config");
  return join(base, "farmctl", "config.toml");
}

/** The config file's settings, its paths made absolute (relative to the file, or ~/); {} if absent. */
export function readClientConfig(path: string): RemoteOptions {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    // Absent, or another user's (runuser keeps HOME): no remote from it, the socket then.
    if (["ENOENT", "ENOTDIR", "EACCES"].includes((err as NodeJS.ErrnoException).code!)) return {};
    throw new ConfigError(`${path}: cannot read: ${(err as Error).message}`, "fix its permissions");
  }
  const raw = parseTomlText(
    text,
    path,
    (m) => new ConfigError(m, "fix the syntax; see farmctl(1)"),
  );
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(
      `${path}: ${describeIssues(parsed.error.issues, fileSchema).join("; ")}`,
      'it takes remote = "https://host01.farm:8443", cert, key and ca (file names); see farmctl(1)',
    );
  const file = (p: string) =>
    p.startsWith("~/") ? join(homedir(), p.slice(2)) : resolve(dirname(path), p);
  const o = parsed.data;
  return {
    remote: o.remote,
    cert: o.cert && file(o.cert),
    key: o.key && file(o.key),
    ca: o.ca && file(o.ca),
  };
}

/** Each setting from the first source that gives it, and that source's name for messages. */
export function remoteSettings(
  flags: RemoteOptions,
  env: NodeJS.ProcessEnv = process.env,
): { values: RemoteOptions; from: Partial<Record<Key, string>> } | null {
  const configPath = clientConfigPath(env);
  const envName = (k: Key) => `FARMCTL_${k.toUpperCase()}`;
  const sources: [(k: Key) => string, RemoteOptions][] = [
    [(k) => `--${k}`, flags],
    [envName, Object.fromEntries(KEYS.map((k) => [k, env[envName(k)] || undefined]))],
    [(k) => `${k} in ${configPath}`, readClientConfig(configPath)],
  ];
  const values: RemoteOptions = {};
  const from: Partial<Record<Key, string>> = {};
  for (const k of KEYS) {
    const source = sources.find(([, o]) => o[k]);
    if (source) [values[k], from[k]] = [source[1][k], source[0](k)];
  }
  if (values.remote) return { values, from };
  const stray = KEYS.find((k) => from[k] && !from[k]!.includes(" in "));
  if (stray)
    throw new FarmError(
      "usage",
      `${from[stray]} is given without --remote`,
      EXIT.badUsage,
      "give --remote https://HOST:PORT too (or FARMCTL_REMOTE), or drop it to use the local socket",
    );
  return null;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;
const bad = (message: string, hint: string, exit: number = EXIT.dataErr) =>
  new FarmError("bad_credentials", message, exit, hint);
const ISSUE_HINT = "use the NAME.pem and NAME.key `farmctl ca issue` wrote";

function readText(label: string, file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw bad(`cannot read ${label} ${file}: ${(err as Error).message}`, ISSUE_HINT, EXIT.badUsage);
  }
}

/** The remote farmd's URL: https://HOST[:PORT], nothing after the host but an optional "/". */
function remoteUrl(text: string, from: string): URL {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // refused below
  }
  if (
    !url ||
    url.protocol !== "https:" ||
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    url.pathname !== "/"
  )
    throw bad(
      `${from} '${text}' is not an https URL of farmd's listener`,
      "give it like https://host01.farm:8443 (farmd.toml's [api] listen)",
      EXIT.badUsage,
    );
  return url;
}

/** The URL, client certificate, key and CA certificates, read and checked before connecting. */
export function remoteCredentials(
  s: NonNullable<ReturnType<typeof remoteSettings>>,
): RemoteCredentials {
  const { values: v, from } = s;
  const url = remoteUrl(v.remote!, from.remote!);
  if (!v.cert || !v.key)
    throw bad(
      `${from.remote} needs a client certificate and its key`,
      "give --cert NAME.pem --key NAME.key (or FARMCTL_CERT, FARMCTL_KEY), from `farmctl ca issue`",
      EXIT.badUsage,
    );
  const certs = readText(from.cert!, v.cert).match(PEM_CERT) ?? [];
  if (!certs.length) throw bad(`${from.cert} ${v.cert} holds no PEM certificate`, ISSUE_HINT);
  let key: KeyObject;
  try {
    key = createPrivateKey(readText(from.key!, v.key));
  } catch (err) {
    if (err instanceof FarmError) throw err;
    throw bad(
      `${from.key} ${v.key} is not a PEM private key: ${(err as Error).message}`,
      ISSUE_HINT,
    );
  }
  if (!new X509Certificate(certs[0]!).checkPrivateKey(key))
    throw bad(`${from.key} ${v.key} is not the key of ${from.cert} ${v.cert}`, ISSUE_HINT);
  // farmd's certificate is verified against --ca, else the CA certificate(s) after the leaf.
  const ca = v.ca ? (readText(from.ca!, v.ca).match(PEM_CERT) ?? []) : certs.slice(1);
  if (!ca.length)
    throw bad(
      v.ca
        ? `${from.ca} ${v.ca} holds no PEM certificate`
        : `${from.cert} ${v.cert} holds only the client's certificate, not farmd's CA certificate`,
      "give --ca FILE with farmd's CA certificate (NAME.pem from `farmctl ca issue` has it after the leaf; on farmd's host it is <state_dir>/ca/ca.pem)",
      EXIT.badUsage,
    );
  return {
    url,
    cert: certs[0]!,
    key: key.export({ format: "pem", type: "pkcs8" }) as string,
    ca: ca.join(""),
    certFile: v.cert,
  };
}
