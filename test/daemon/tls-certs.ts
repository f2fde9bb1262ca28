// Certificates for the TLS tests, made by the real openssl: a CA (farmd's, or "another CA"), client
// certificates (valid, expired, unrecorded), and the records a listener verifies peers against.
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { Unauthenticated, type Identity, type Role } from "../../src/api/auth.js";
import type { ListenerCa } from "../../src/daemon/tls.js";

export interface IssuedCert {
  name: string;
  /** The leaf then the CA certificate, as `farmctl ca issue` writes NAME.pem. */
  pemFile: string;
  /** The leaf alone. */
  certFile: string;
  keyFile: string;
  serialNumber: string;
  fingerprint256: string;
}

const openssl = (cwd: string, ...args: string[]) => execa("openssl", args, { cwd });

const CA_CONF = `[ca]
default_ca = test
[test]
dir = .
database = index.txt
serial = serial.txt
new_certs_dir = issued
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = copy
[anything]
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
`;

/** A CA made with openssl in `dir`; it also plays farmd's Ca records for the listener. */
export class TestCa implements ListenerCa {
  private readonly records = new Map<
    string,
    { cert: IssuedCert; role: Role; revoked: boolean; recorded: boolean }
  >();
  serverNames: string[] = [];

  private constructor(readonly dir: string) {}

  static async create(dir: string, subject = "farmd test CA"): Promise<TestCa> {
    mkdirSync(join(dir, "issued"), { recursive: true });
    writeFileSync(join(dir, "ca.cnf"), CA_CONF);
    writeFileSync(join(dir, "index.txt"), "");
    writeFileSync(join(dir, "serial.txt"), "01\n");
    await openssl(dir, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key");
    await openssl(
      dir,
      "req",
      "-x509",
      "-new",
      "-key",
      "ca.key",
      "-subj",
      `/CN=${subject}`,
      "-days",
      "30",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-out",
      "ca.pem",
    );
    return new TestCa(dir);
  }

  get caPem(): string {
    return readFileSync(join(this.dir, "ca.pem"), "utf8");
  }

  /** A certificate signed by this CA; `dates` overrides its validity (openssl's YYYYMMDDHHMMSSZ). */
  async sign(
    name: string,
    o: { dates?: [string, string]; ext?: string; san?: string } = {},
  ): Promise<IssuedCert> {
    const d = this.dir;
    await openssl(d, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.ec`);
    await openssl(d, "pkcs8", "-topk8", "-nocrypt", "-in", `${name}.ec`, "-out", `${name}.key`);
    const san = o.san ? ["-addext", `subjectAltName=${o.san}`] : [];
    await openssl(
      d,
      "req",
      "-new",
      "-key",
      `${name}.key`,
      "-subj",
      `/CN=${name}`,
      ...san,
      "-out",
      `${name}.csr`,
    );
    const dates = o.dates ? ["-startdate", o.dates[0], "-enddate", o.dates[1]] : ["-days", "2"];
    await openssl(
      d,
      "ca",
      "-batch",
      "-config",
      "ca.cnf",
      "-cert",
      "ca.pem",
      "-keyfile",
      "ca.key",
      "-rand_serial",
      "-notext",
      "-extensions",
      o.ext ?? "client",
      ...dates,
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.crt`,
    );
    const leaf = readFileSync(join(d, `${name}.crt`), "utf8");
    writeFileSync(join(d, `${name}.pem`), leaf + this.caPem);
    const x = new X509Certificate(leaf);
    return {
      name,
      pemFile: join(d, `${name}.pem`),
      certFile: join(d, `${name}.crt`),
      keyFile: join(d, `${name}.key`),
      serialNumber: x.serialNumber,
      fingerprint256: x.fingerprint256,
    };
  }

  /** A client certificate in the records, as `farmctl ca issue NAME --role ROLE` makes one. */
  async issue(name: string, role: Role, o: { dates?: [string, string] } = {}): Promise<IssuedCert> {
    const cert = await this.sign(name, o);
    this.records.set(cert.serialNumber, { cert, role, revoked: false, recorded: true });
    return cert;
  }

  revoke(name: string): void {
    for (const r of this.records.values()) if (r.cert.name === name) r.revoked = true;
  }

  async serverCredentials(names: string[]) {
    this.serverNames = names;
    const san = names.map((n) => (/^[\d.]+$|:/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(",");
    const server = await this.sign("server", { ext: "server", san });
    return {
      keyPem: readFileSync(server.keyFile, "utf8"),
      certPem: readFileSync(server.certFile, "utf8"),
      caPem: this.caPem,
    };
  }

  verifyPeer(peer: { serialNumber: string; fingerprint256: string }): Identity {
    const r = this.records.get(peer.serialNumber);
    if (!r || r.cert.fingerprint256 !== peer.fingerprint256)
      throw new Unauthenticated(
        `certificate ${peer.serialNumber} is not one farmd's CA issued`,
        "ask an admin for a certificate (farmctl ca issue)",
      );
    if (r.revoked)
      throw new Unauthenticated(
        `certificate ${r.cert.name} is revoked`,
        "ask an admin for a new one",
      );
    return { owner: `cert:${r.cert.name}`, role: r.role, via: "tls", sources: null, maxVms: null };
  }
}
