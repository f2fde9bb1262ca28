// Each service's own checker, run on a candidate file before it is put in place; a refusal becomes
// ValidationFailed carrying the checker's message. Checkers change nothing, so they are readOnly.
import { ValidationFailed } from "../../api/errors.js";
import type { Runner } from "../runner.js";

export interface CheckOptions {
  /** Prefix argv, e.g. ["unshare", "--net"], or a test's mount-namespace wrapper. */
  wrap?: readonly string[];
}

/** -k fail: named refuses bad host names in a master zone, so the check must too. No -q: we want the message. */
export function namedCheckzoneArgv(zone: string, file: string): string[] {
  return ["named-checkzone", "-k", "fail", zone, file];
}

/** -t only parses the config (no lease file, no pid file); no -q, which would hide the error too. */
export function dhcpdCheckArgv(file: string): string[] {
  return ["dhcpd", "-t", "-4", "-cf", file];
}

/** -q keeps only errors; prefixArgv such as nginxPrefixArgv() points nginx at a private tree. */
export function nginxCheckArgv(prefixArgv: readonly string[] = []): string[] {
  return ["nginx", "-t", "-q", ...prefixArgv];
}

export function nginxPrefixArgv(prefix: string, conf: string, errorLog: string): string[] {
  return ["-p", prefix, "-c", conf, "-e", errorLog];
}

/** `dir` is a copy of /etc/shorewall holding the candidate rules and params. */
export function shorewallCheckArgv(dir: string): string[] {
  return ["shorewall", "check", dir];
}

/** Capability probing then happens in a throw-away netns and leaves no iptables tables behind. */
export const SHOREWALL_WRAP: readonly string[] = ["unshare", "--net"];

/** dhcpd wraps its one useful line in a banner and a bug-report plea: keep the useful part. */
export function dhcpdMessage(output: string): string {
  return output
    .replace(
      /^(Internet Systems Consortium|Copyright|All rights reserved|For info, please).*\n/gm,
      "",
    )
    .replace(/\nIf you think you have received this message[\s\S]*$/, "")
    .trim();
}

async function check(
  runner: Runner,
  file: string,
  argv: readonly string[],
  opts: CheckOptions,
  message: (out: string) => string = (o) => o.trim(),
): Promise<string> {
  const full = [...(opts.wrap ?? []), ...argv];
  const r = await runner.run(full, { readOnly: true, allowFailure: true });
  const output = [r.stdout, r.stderr].filter((s) => s.trim()).join("\n");
  if (r.exitCode !== 0) throw new ValidationFailed(file, full, message(output) || output);
  return output;
}

export function validateZone(
  runner: Runner,
  zone: string,
  file: string,
  opts: CheckOptions = {},
): Promise<string> {
  return check(runner, file, namedCheckzoneArgv(zone, file), opts);
}

export function validateDhcpd(
  runner: Runner,
  file: string,
  opts: CheckOptions = {},
): Promise<string> {
  return check(runner, file, dhcpdCheckArgv(file), opts, dhcpdMessage);
}

export interface NginxCheckOptions extends CheckOptions {
  prefixArgv?: readonly string[];
}

/** `file` is the site being added; nginx -t checks the whole configuration that includes it. */
export function validateNginx(
  runner: Runner,
  file: string,
  opts: NginxCheckOptions = {},
): Promise<string> {
  return check(runner, file, nginxCheckArgv(opts.prefixArgv), opts);
}

export function validateShorewall(
  runner: Runner,
  dir: string,
  opts: CheckOptions & { file?: string } = {},
): Promise<string> {
  const wrapped = { wrap: opts.wrap ?? SHOREWALL_WRAP };
  return check(runner, opts.file ?? dir, shorewallCheckArgv(dir), wrapped);
}
