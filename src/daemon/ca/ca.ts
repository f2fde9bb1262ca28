// farmd's certificate authority: its key and certificate under <stateDir>/ca (root only), the client
// certificates it issues (recorded in the state database), and the TLS listener's own certificate.
import { X509Certificate } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import type { CertRecord, Identity } from "../../api/auth.js";
import { Unauthenticated } from "../../api/auth.js";
import {
  certStatus,
  checkCertName,
  checkIssue,
  type CaInitResult,
  type CaListener,
  type CaListing,
  type IssuedCert,
  type IssueRequest,
} from "../../api/ca.js";
import { AlreadyExists, BadInput, ConfigError, NotFound } from "../../api/errors.js";
import type { Runner } from "../../host/runner.js";
import { Certs } from "../../state/certs.js";
import type { Db } from "../../state/db.js";
import { leafExtensions, Openssl, randomSerial, type Subject } from "./openssl.js";
import {
  currentServerCredentials,
  keepServerCredentials,
  SERVER_DAYS,
  serverAltNames,
  type ServerCredentials,
} from "./server-cert.js";

const CA_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface CaOptions {
  db: Db;
  stateDir: string;
  runner: Runner;
  /** The time validity is judged at (tests move it). */
  clock?: () => Date;
  /** Run once init made the CA: farmd starts the TLS listener that waited for it. */
  onCreated?: () => Promise<CaListener | undefined>;
}

/** The CA's files once `init` made them. */
export interface CaFiles {
  dir: string;
  keyFile: string;
  certFile: string;
  caPem: string;
  cert: X509Certificate;
}

const iso = (certDate: string) => new Date(certDate).toISOString();

export class Ca {
  readonly dir: string;
  private readonly certs: Certs;
  private readonly openssl: Openssl;
  private readonly clock: () => Date;
  /** init, issue and the server's certificate run one at a time: no two of a name, no torn files. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: CaOptions) {
    this.dir = join(o.stateDir, "ca");
    this.certs = new Certs(o.db);
    this.openssl = new Openssl(o.runner);
    this.clock = o.clock ?? (() => new Date());
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => {});
    return next;
  }

  /** Creates the CA once; later calls answer the same certificate with created: false. */
  async init(): Promise<CaInitResult> {
    const made = await this.create();
    // Outside the queue: the listener asks it for the server's certificate.
    const listener = made.created ? await this.o.onCreated?.() : undefined;
    return listener ? { ...made, listener } : made;
  }

  private create(): Promise<CaInitResult> {
    return this.serially(async () => {
      const existing = this.files();
      if (existing) return { created: false, ...this.describe(existing) };
      mkdirSync(this.o.stateDir, { recursive: true, mode: 0o750 });
      // Made whole in a private directory, then renamed into place: never half a CA.
      const tmp = mkdtempSync(join(this.o.stateDir, ".ca-"));
      try {
        const keyFile = join(tmp, "ca.key");
        writeFileSync(keyFile, await this.openssl.newKey(), { mode: 0o600, flag: "wx" });
        const pem = await this.openssl.selfSigned({
          workDir: tmp,
          keyFile,
          subject: caSubject(),
          days: CA_DAYS,
          serial: randomSerial(),
        });
        writeFileSync(join(tmp, "ca.pem"), pem, { mode: 0o644, flag: "wx" });
        rmSync(join(tmp, "openssl.cnf"));
        renameSync(tmp, this.dir);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      return { created: true, ...this.describe(this.files()!) };
    });
  }

  /** The CA's files, null before init; a directory holding half of them is refused, never replaced. */
  files(): CaFiles | null {
    if (!existsSync(this.dir)) return null;
    const keyFile = join(this.dir, "ca.key");
    const certFile = join(this.dir, "ca.pem");
    const missing = [keyFile, certFile].filter((f) => !existsSync(f));
    if (missing.length)
      throw new ConfigError(
        `${this.dir} exists but has no ${missing.join(" nor ")}`,
        `move ${this.dir} away (farmd did not leave it so), then run \`farmctl ca init\``,
      );
    const caPem = readFileSync(certFile, "utf8");
    return { dir: this.dir, keyFile, certFile, caPem, cert: new X509Certificate(caPem) };
  }

  /** The CA's files; refused (78) before `farmctl ca init`. */
  required(): CaFiles {
    const files = this.files();
    if (!files)
      throw new ConfigError(
        `farmd's CA was never initialised (no ${this.dir})`,
        "run `farmctl ca init` as an admin of this farmd",
      );
    return files;
  }

  private describe(f: CaFiles): { fingerprint: string; caPem: string } {
    return { fingerprint: f.cert.fingerprint256, caPem: f.caPem };
  }

  /** Issues a client certificate and records it; its key is returned, never kept. */
  async issue(r: IssueRequest): Promise<IssuedCert> {
    const want = checkIssue(r);
    return this.serially(async () => {
      const ca = this.required();
      const now = this.clock();
      const [held] = this.certs.active(want.name, now.toISOString());
      if (held)
        throw new AlreadyExists(
          `certificate '${want.name}' is active (serial ${held.serial}, until ${held.notAfter})`,
          `revoke it first: farmctl ca revoke ${want.name}`,
          { field: "name" },
        );
      const caEnd = Date.parse(iso(ca.cert.validTo));
      if (now.getTime() + want.days * DAY_MS > caEnd)
        throw new BadInput(
          `a certificate of ${want.days} days would outlive farmd's CA (valid until ${iso(ca.cert.validTo)})`,
          `give --days ${Math.max(0, Math.floor((caEnd - now.getTime()) / DAY_MS))} or fewer`,
          { field: "days" },
        );
      const keyPem = await this.openssl.newKey();
      const leaf = await this.sign(ca, keyPem, want.name, ["clientAuth", []], want.days);
      const cert = new X509Certificate(leaf);
      const record: CertRecord = {
        serial: cert.serialNumber.toLowerCase(),
        name: want.name,
        role: want.role,
        sources: want.sources,
        maxVms: want.maxVms,
        fingerprint: cert.fingerprint256,
        notBefore: iso(cert.validFrom),
        notAfter: iso(cert.validTo),
        issuedAt: now.toISOString(),
        revokedAt: null,
      };
      this.certs.insert(record);
      return { record, certPem: leaf + ca.caPem, keyPem, caPem: ca.caPem };
    });
  }

  /** A leaf certificate signed by the CA, made in a private work directory removed after. */
  private async sign(
    ca: CaFiles,
    keyPem: string,
    commonName: string,
    [use, altNames]: Parameters<typeof leafExtensions>,
    days: number,
  ): Promise<string> {
    // One signing at a time (serially): a work dir already there was left by a crash, key and all.
    for (const left of readdirSync(ca.dir).filter((f) => f.startsWith(".work-")))
      rmSync(join(ca.dir, left), { recursive: true, force: true });
    const workDir = mkdtempSync(join(ca.dir, ".work-"));
    try {
      return await this.openssl.signed({
        workDir,
        keyPem,
        subject: [
          ["O", "farmd"],
          ["CN", commonName],
        ],
        extensions: leafExtensions(use, altNames),
        days,
        serial: randomSerial(),
        caCertFile: ca.certFile,
        caKeyFile: ca.keyFile,
      });
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  /** The CA (null before init) and every certificate it issued, revoked and expired ones too. */
  list(): CaListing {
    const files = this.files();
    return {
      ca: files && {
        fingerprint: files.cert.fingerprint256,
        subject: files.cert.subject.replace(/\n/g, ", "),
        notAfter: iso(files.cert.validTo),
      },
      certificates: this.certs.list(),
    };
  }

  /** Revokes the name's certificates; farmd refuses them from its next request on. */
  revoke(name: string): CertRecord[] {
    checkCertName(name);
    const revoked = this.certs.revoke(name, this.clock().toISOString());
    if (!revoked.length)
      throw new NotFound(
        `no unrevoked certificate named '${name}'`,
        "`farmctl ca list` shows the certificates and their state",
        { field: "name" },
      );
    return revoked;
  }

  /** The TLS listener's key and certificate for `names`, re-issued when they change or run out. */
  async serverCredentials(names: string[]): Promise<ServerCredentials> {
    const altNames = serverAltNames(names);
    return this.serially(async () => {
      const ca = this.required();
      const current = currentServerCredentials(ca, altNames, this.clock());
      if (current) return current;
      const keyPem = await this.openssl.newKey();
      const leaf = await this.sign(ca, keyPem, "farmd API", ["serverAuth", altNames], SERVER_DAYS);
      return keepServerCredentials(ca, keyPem, leaf);
    });
  }

  /** The identity of a verified client certificate, from the records as they are now. */
  verifyPeer(peer: { serialNumber: string; fingerprint256: string }): Identity {
    if (!peer.serialNumber || !peer.fingerprint256)
      throw new Unauthenticated(
        "no client certificate",
        "give farmctl --cert and --key from `farmctl ca issue`",
      );
    const serial = peer.serialNumber.toLowerCase();
    const record = this.certs.bySerial(serial);
    if (!record || record.fingerprint.toUpperCase() !== peer.fingerprint256.toUpperCase())
      throw new Unauthenticated(
        `certificate serial ${serial} is not one farmd's CA issued`,
        "ask an admin of this farmd for one: farmctl ca issue",
      );
    const status = certStatus(record, this.clock());
    if (status !== "active")
      throw new Unauthenticated(
        `certificate '${record.name}' (serial ${serial}) is ${status}`,
        "ask an admin of this farmd for a new one: farmctl ca issue",
      );
    return {
      owner: `cert:${record.name}`,
      role: record.role,
      via: "tls",
      sources: record.sources,
      maxVms: record.maxVms,
    };
  }
}

/** "farmd CA <host>": tells one farmd's CA from another's in a client's trust store. */
function caSubject(): Subject {
  const host = hostname();
  const cn = /^[A-Za-z0-9.-]{1,55}$/.test(host) ? `farmd CA ${host}` : "farmd CA";
  return [
    ["O", "farmd"],
    ["CN", cn],
  ];
}
