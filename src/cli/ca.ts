// `farmctl ca init|issue|list|revoke`: farmd's certificate authority, for the remote API (admin).
import { accessSync, constants, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, Option } from "commander";
import type { CertRecord } from "../api/auth.js";
import { certStatus, checkIssue, DEFAULT_DAYS, type IssuedCert } from "../api/ca.js";
import { BadInput, FarmError } from "../api/errors.js";
import { connect } from "../client/connect.js";
import { printJson } from "./output.js";
import { table } from "./table.js";

/** sysexits EX_CANTCREAT, EX_NOPERM. */
const CANT_CREATE = 73;
const NO_PERM = 77;

const configOption = () => new Option("--config <file>", "farmd.toml to use").env("FARMD_CONFIG");

interface IssueOptions {
  role: string;
  days: string;
  sources?: string;
  maxVms?: string;
  out: string;
  json?: boolean;
  config?: string;
}

function wholeNumber(value: string, option: string): number {
  if (!/^\d{1,9}$/.test(value))
    throw new BadInput(`${option} '${value}' is not a whole number`, `give ${option} like 30`);
  return Number(value);
}

/** NAME.pem and NAME.key in `dir`: refused before farmd issues anything if they cannot be made. */
function outputFiles(dir: string, name: string): { cert: string; key: string } {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new FarmError(
      "cannot_create",
      `--out ${dir} is not a directory`,
      CANT_CREATE,
      "create it first, or give --out a directory that exists",
    );
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new FarmError(
      "permission_denied",
      `cannot write in ${dir}`,
      NO_PERM,
      "give --out a directory you may write in",
    );
  }
  const files = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  for (const file of Object.values(files))
    if (existsSync(file))
      throw new FarmError(
        "already_exists",
        `${file} exists; it was left as it is`,
        CANT_CREATE,
        "give --out another directory, or move the file away",
      );
  return files;
}

function writeIssued(files: { cert: string; key: string }, issued: IssuedCert): void {
  try {
    writeFileSync(files.key, issued.keyPem, { mode: 0o600, flag: "wx" });
    writeFileSync(files.cert, issued.certPem, { mode: 0o644, flag: "wx" });
  } catch (err) {
    throw new FarmError(
      "cannot_create",
      `certificate '${issued.record.name}' was issued but not written: ${(err as Error).message}`,
      CANT_CREATE,
      `revoke it (farmctl ca revoke ${issued.record.name}) and issue it again`,
    );
  }
}

function certTable(certs: CertRecord[]): string {
  return table(
    ["NAME", "ROLE", "STATUS", "EXPIRES", "SOURCES", "MAX-VMS", "SERIAL"],
    certs.map((c) => [
      c.name,
      c.role,
      certStatus(c),
      c.notAfter.slice(0, 10),
      c.sources?.join(",") ?? "-",
      c.maxVms === null ? "-" : String(c.maxVms),
      c.serial,
    ]),
  );
}

export function registerCa(program: Command): void {
  const ca = program
    .command("ca")
    .description("farmd's certificate authority: client certificates for its remote API (admin)");

  ca.command("init")
    .description("create farmd's CA in its state directory (once; again, it shows the CA kept)")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (o: { json?: boolean; config?: string }) => {
      const r = await connect({ configPath: o.config }).caInit();
      if (o.json) return printJson({ ok: true, ...r });
      process.stdout.write(
        `${r.created ? "created farmd's CA" : "farmd's CA exists; it was kept"}\n  SHA-256 ${r.fingerprint}\n`,
      );
      if (r.listener && "url" in r.listener)
        process.stdout.write(`farmd listens on ${r.listener.url} (TLS 1.3, [api] listen)\n`);
      // The CA was made (exit 0); the listener's failure is farmd's config, said on stderr.
      else if (r.listener)
        process.stderr.write(`farmctl: farmd could not listen: ${r.listener.error}\n`);
    });

  ca.command("issue")
    .description("issue a client certificate: writes NAME.pem (then the CA's) and NAME.key (0600)")
    .argument("<name>", "the identity, e.g. ci-runner (owner cert:NAME)")
    .requiredOption("--role <role>", "reader, operator or admin")
    .option("--days <n>", "validity in days", String(DEFAULT_DAYS))
    .option("--sources <patterns>", "an operator's clone sources, e.g. gallifrey,builder-*")
    .option("--max-vms <n>", "an operator's quota: VMs it owns at once")
    .option("--out <dir>", "directory to write NAME.pem and NAME.key in", ".")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (name: string, o: IssueOptions) => {
      const request = checkIssue({
        name,
        role: o.role as CertRecord["role"],
        days: wholeNumber(o.days, "--days"),
        sources: o.sources === undefined ? null : o.sources.split(",").map((s) => s.trim()),
        maxVms: o.maxVms === undefined ? null : wholeNumber(o.maxVms, "--max-vms"),
      });
      const files = outputFiles(o.out, name);
      const issued = await connect({ configPath: o.config }).caIssue(request);
      writeIssued(files, issued);
      const r = issued.record;
      if (o.json) return printJson({ ok: true, record: r, files });
      process.stdout.write(
        `issued '${r.name}': ${r.role}, serial ${r.serial}, valid until ${r.notAfter}\n` +
          `  certificate ${files.cert} (farmd's CA certificate after it)\n` +
          `  key         ${files.key} (mode 0600: give it to ${r.name} alone)\n`,
      );
    });

  ca.command("list")
    .description("the certificates farmd's CA issued, revoked and expired ones too")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (o: { json?: boolean; config?: string }) => {
      const { ca: authority, certificates } = await connect({ configPath: o.config }).caList();
      if (o.json) {
        const withStatus = certificates.map((c) => ({ ...c, status: certStatus(c) }));
        return printJson({ ok: true, ca: authority, certificates: withStatus });
      }
      if (!authority)
        return void process.stdout.write("farmd has no CA yet: run `farmctl ca init`\n");
      process.stdout.write(
        `CA ${authority.subject}, until ${authority.notAfter.slice(0, 10)}, SHA-256 ${authority.fingerprint}\n\n`,
      );
      process.stdout.write(certificates.length ? certTable(certificates) : "no certificates\n");
    });

  ca.command("revoke")
    .description("revoke NAME's certificate: farmd refuses it from its next request on")
    .argument("<name>", "the certificate's name")
    .option("--json", "print one JSON document on stdout")
    .addOption(configOption())
    .action(async (name: string, o: { json?: boolean; config?: string }) => {
      const revoked = await connect({ configPath: o.config }).caRevoke(name);
      if (o.json) return printJson({ ok: true, revoked });
      for (const c of revoked) process.stdout.write(`revoked '${c.name}' (serial ${c.serial})\n`);
    });
}
