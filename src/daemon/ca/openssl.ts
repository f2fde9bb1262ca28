// openssl(1) makes farmd's keys and certificates (EC P-256, SHA-256), argv only, through the Runner.
// Its config files are written by farmd from checked values, so the host's openssl.cnf plays no part.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Runner } from "../../host/runner.js";

/** A subject's attribute values: never a character -subj or a config file gives a meaning to. */
const SUBJECT_VALUE = /^[A-Za-z0-9 ._-]{1,64}$/;
/** An extension's value in a config file: one line of plain characters. */
const EXTENSION_VALUE = /^[A-Za-z0-9 .:,_*=-]+$/;

export type Subject = [attribute: "O" | "CN", value: string][];

export type Extensions = Record<string, string>;

export const CA_EXTENSIONS: Extensions = {
  basicConstraints: "critical,CA:TRUE,pathlen:0",
  keyUsage: "critical,keyCertSign,cRLSign",
  subjectKeyIdentifier: "hash",
  authorityKeyIdentifier: "keyid:always",
};

/** A leaf's extensions: a client's (clientAuth) or the TLS listener's (serverAuth, its names). */
export function leafExtensions(
  use: "clientAuth" | "serverAuth",
  altNames: string[] = [],
): Extensions {
  return {
    basicConstraints: "critical,CA:FALSE",
    keyUsage: "critical,digitalSignature",
    extendedKeyUsage: use,
    subjectKeyIdentifier: "hash",
    authorityKeyIdentifier: "keyid",
    ...(altNames.length ? { subjectAltName: altNames.join(",") } : {}),
  };
}

/** A random positive 128-bit serial, its first hex digit never 0 (one spelling, no leading zero). */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x3f) | 0x40;
  return bytes.toString("hex");
}

function subjectArg(subject: Subject): string {
  for (const [, value] of subject)
    if (!SUBJECT_VALUE.test(value))
      throw new Error(`unsafe subject value ${JSON.stringify(value)}`);
  return subject.map(([k, v]) => `/${k}=${v}`).join("");
}

/** The config file openssl reads instead of the host's: no defaults, the extensions given. */
function writeConfig(workDir: string, extensions: Extensions): string {
  const lines = Object.entries(extensions).map(([k, v]) => {
    if (!EXTENSION_VALUE.test(v)) throw new Error(`unsafe extension value ${JSON.stringify(v)}`);
    return `${k} = ${v}`;
  });
  const file = join(workDir, "openssl.cnf");
  const text = ["[req]", "distinguished_name = dn", "prompt = no", "[dn]", "[ext]", ...lines];
  writeFileSync(file, text.join("\n") + "\n", { mode: 0o600 });
  return file;
}

export class Openssl {
  constructor(private readonly runner: Runner) {}

  /** openssl with no config of the host's: every setting comes from the argv and farmd's file. */
  private async run(args: string[], input?: string): Promise<string> {
    const env = { OPENSSL_CONF: "/dev/null" };
    return (await this.runner.run(["openssl", ...args], { env, input })).stdout;
  }

  /** A new EC P-256 private key, PKCS#8 PEM (never written by openssl itself). */
  async newKey(): Promise<string> {
    return this.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
  }

  /** A CA certificate signed by its own key (the file `keyFile`). */
  async selfSigned(o: {
    workDir: string;
    keyFile: string;
    subject: Subject;
    days: number;
    serial: string;
  }): Promise<string> {
    const config = writeConfig(o.workDir, CA_EXTENSIONS);
    return this.run([
      "req",
      "-x509",
      "-new",
      "-config",
      config,
      "-extensions",
      "ext",
      "-key",
      o.keyFile,
      "-subj",
      subjectArg(o.subject),
      "-days",
      String(o.days),
      "-sha256",
      "-set_serial",
      `0x${o.serial}`,
    ]);
  }

  /** A certificate for `keyPem`'s public key, signed by the CA in caCertFile/caKeyFile; the
   *  caller removes `workDir` (it holds the key). */
  async signed(o: {
    workDir: string;
    keyPem: string;
    subject: Subject;
    extensions: Extensions;
    days: number;
    serial: string;
    caCertFile: string;
    caKeyFile: string;
  }): Promise<string> {
    const config = writeConfig(o.workDir, o.extensions);
    // openssl cannot read a key from a socket (Node's stdin): it goes in the private work dir.
    const keyFile = join(o.workDir, "key.pem");
    writeFileSync(keyFile, o.keyPem, { mode: 0o600, flag: "wx" });
    const csr = await this.run([
      "req",
      "-new",
      "-config",
      config,
      "-key",
      keyFile,
      "-subj",
      subjectArg(o.subject),
    ]);
    return this.run(
      [
        "x509",
        "-req",
        "-CA",
        o.caCertFile,
        "-CAkey",
        o.caKeyFile,
        "-extfile",
        config,
        "-extensions",
        "ext",
        "-days",
        String(o.days),
        "-sha256",
        "-set_serial",
        `0x${o.serial}`,
      ],
      csr,
    );
  }
}
