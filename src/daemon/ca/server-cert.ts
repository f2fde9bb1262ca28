// The TLS listener's certificate: issued by farmd's CA for the names in `[api] names`, kept in
// <stateDir>/ca/server.{key,pem}, used again while it names the same hosts and has a month left.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { join } from "node:path";
import { ConfigError } from "../../api/errors.js";
import type { CaFiles } from "./ca.js";

export const SERVER_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 86_400_000;
const LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
const DNS_NAME = new RegExp(`^${LABEL}(\\.${LABEL})*$`);

export interface ServerCredentials {
  keyPem: string;
  /** The listener's certificate followed by farmd's CA certificate. */
  certPem: string;
  caPem: string;
}

/** The names as subjectAltName entries (DNS:..., IP:...); a name of no kind is refused (78). */
export function serverAltNames(names: string[]): string[] {
  const fix =
    'give the DNS names and addresses clients reach farmd by, like names = ["host01.farm", "10.0.0.1"]';
  if (!names.length) throw new ConfigError("[api] names is empty", fix);
  const entries = names.map((raw) => {
    const name = raw.toLowerCase();
    if (isIP(name)) return `IP:${name}`;
    if (name.length <= 253 && DNS_NAME.test(name)) return `DNS:${name}`;
    throw new ConfigError(
      `[api] names: '${raw}' is neither a DNS name nor an IP address`,
      `${fix} in farmd.toml`,
    );
  });
  return [...new Set(entries)];
}

const paths = (ca: CaFiles) => ({
  keyFile: join(ca.dir, "server.key"),
  certFile: join(ca.dir, "server.pem"),
});

/** The kept credentials if they still serve: this CA's, their own key, these names, a month left. */
export function currentServerCredentials(
  ca: CaFiles,
  altNames: string[],
  now: Date,
): ServerCredentials | null {
  const { keyFile, certFile } = paths(ca);
  if (!existsSync(keyFile) || !existsSync(certFile)) return null;
  try {
    const keyPem = readFileSync(keyFile, "utf8");
    const certPem = readFileSync(certFile, "utf8");
    const cert = new X509Certificate(certPem);
    const issued = cert.checkIssued(ca.cert) && cert.verify(ca.cert.publicKey);
    const ownKey = cert.checkPrivateKey(createPrivateKey(keyPem));
    const lasts =
      Date.parse(new Date(cert.validTo).toISOString()) - now.getTime() > RENEW_BEFORE_MS;
    if (issued && ownKey && lasts && namesExactly(cert, altNames))
      return { keyPem, certPem, caPem: ca.caPem };
  } catch {
    // Unreadable files of farmd's own making are replaced.
  }
  return null;
}

function namesExactly(cert: X509Certificate, altNames: string[]): boolean {
  const held = cert.subjectAltName?.split(", ") ?? [];
  if (held.length !== altNames.length) return false;
  return altNames.every((entry) => {
    const [kind, value] = [entry.slice(0, entry.indexOf(":")), entry.slice(entry.indexOf(":") + 1)];
    return kind === "IP"
      ? cert.checkIP(value) !== undefined
      : cert.checkHost(value, { subject: "never", wildcards: false }) !== undefined;
  });
}

/** Replaces the kept credentials, each file by a rename: a crash leaves old or new, then a re-issue. */
export function keepServerCredentials(
  ca: CaFiles,
  keyPem: string,
  leafPem: string,
): ServerCredentials {
  const { keyFile, certFile } = paths(ca);
  const certPem = leafPem + ca.caPem;
  for (const [file, text, mode] of [
    [keyFile, keyPem, 0o600],
    [certFile, certPem, 0o644],
  ] as const) {
    rmSync(`${file}.new`, { force: true });
    writeFileSync(`${file}.new`, text, { mode, flag: "wx" });
    renameSync(`${file}.new`, file);
  }
  return { keyPem, certPem, caPem: ca.caPem };
}
