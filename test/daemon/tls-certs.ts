// Certificates farmd's CA would not issue, made by the real openssl for the TLS tests: another CA's,
// and with farmd's own CA key an expired one and one missing from its records.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";

export interface CertFiles {
  name: string;
  /** The leaf then the CA certificate, as `farmctl ca issue` writes NAME.pem. */
  pemFile: string;
  keyFile: string;
}

/** openssl with `words` split on spaces (none of them holds one) then `more`, in `cwd`. */
const openssl = (cwd: string, words: string, ...more: string[]) =>
  execa("openssl", [...words.split(" "), ...more], { cwd });

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
[anything]
commonName = supplied
[client]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
`;

/** A CA for openssl's `ca` command in `dir`: a new one, or farmd's own key and certificate. */
export class TestCa {
  private constructor(readonly dir: string) {
    mkdirSync(join(dir, "issued"), { recursive: true });
    writeFileSync(join(dir, "ca.cnf"), CA_CONF);
    writeFileSync(join(dir, "index.txt"), "");
    writeFileSync(join(dir, "serial.txt"), "01\n");
  }

  static async create(dir: string, subject: string): Promise<TestCa> {
    const ca = new TestCa(dir);
    await openssl(dir, "ecparam -name prime256v1 -genkey -noout -out ca.key");
    await openssl(
      dir,
      "req -x509 -new -key ca.key -days 30 -out ca.pem",
      "-subj",
      `/CN=${subject}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign",
    );
    return ca;
  }

  /** Signs with farmd's CA key and certificate (copied from its `caDir`). */
  static adopt(dir: string, caDir: string): TestCa {
    const ca = new TestCa(dir);
    copyFileSync(join(caDir, "ca.key"), join(dir, "ca.key"));
    copyFileSync(join(caDir, "ca.pem"), join(dir, "ca.pem"));
    return ca;
  }

  /** A client certificate; `dates` sets its validity (openssl's YYYYMMDDHHMMSSZ), else 2 days. */
  async sign(name: string, dates?: [string, string]): Promise<CertFiles> {
    const d = this.dir;
    await openssl(d, `ecparam -name prime256v1 -genkey -noout -out ${name}.ec`);
    await openssl(d, `pkcs8 -topk8 -nocrypt -in ${name}.ec -out ${name}.key`);
    await openssl(d, `req -new -key ${name}.key -out ${name}.csr`, "-subj", `/CN=${name}`);
    const validity = dates ? ["-startdate", dates[0], "-enddate", dates[1]] : ["-days", "2"];
    await openssl(
      d,
      "ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -rand_serial -notext",
      "-extensions",
      "client",
      ...validity,
      "-in",
      `${name}.csr`,
      "-out",
      `${name}.crt`,
    );
    const pem = readFileSync(join(d, `${name}.crt`), "utf8") + readFileSync(join(d, "ca.pem"));
    writeFileSync(join(d, `${name}.pem`), pem);
    return { name, pemFile: join(d, `${name}.pem`), keyFile: join(d, `${name}.key`) };
  }
}
