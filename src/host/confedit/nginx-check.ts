// `nginx -t` can only check a whole configuration, so a site is checked in a private copy of the
// nginx directory with the site in place and enabled: nothing goes live before nginx accepts it.
import { promises as fs } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { ConfigError, ValidationFailed } from "../../api/errors.js";
import type { Runner } from "../runner.js";
import { nginxCheckArgv, validateNginx, type CheckOptions } from "./checkers.js";

export interface SiteCandidate {
  /** The nginx directory (holding nginx.conf), e.g. /etc/nginx. */
  confDir: string;
  /** The site file and its link as they will be, under confDir. */
  file: string;
  link: string;
  content: string;
  /** Enable the site in the copy (add, restore); else the copy keeps the real link as it is. */
  enable: boolean;
}

/** Where `path` (under confDir) lies in the copy; farmd.toml must keep the sites under confDir. */
function inCopy(confDir: string, copy: string, path: string): string {
  const rel = relative(confDir, path);
  if (rel.startsWith("..") || isAbsolute(rel))
    throw new ConfigError(
      `${path} is not under ${confDir}, where nginx.conf is: the site cannot be checked before it goes live`,
      "put [proxy] sites_available and sites_enabled in the directory of nginx.conf",
    );
  return join(copy, rel);
}

/** Points every absolute path into confDir (includes, links) at the copy instead. */
async function retarget(dir: string, from: string, to: string): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) await retarget(path, from, to);
    else if (e.isSymbolicLink()) {
      const target = await fs.readlink(path);
      if (!target.startsWith(from)) continue;
      await fs.rm(path);
      await fs.symlink(to + target.slice(from.length), path);
    } else if (e.isFile()) {
      const text = await fs.readFile(path, "utf8");
      if (text.includes(from)) await fs.writeFile(path, text.replaceAll(from, to));
    }
  }
}

/** Runs `nginx -t -c <copy>/nginx.conf` on the configuration with the candidate site; throws ValidationFailed naming the real file. */
export async function checkSiteInCopy(
  runner: Runner,
  site: SiteCandidate,
  opts: CheckOptions,
): Promise<void> {
  const copy = await fs.mkdtemp(join(process.env.TMPDIR ?? "/tmp", "farmctl-nginx-"));
  const back = (s: string) => s.replaceAll(`${copy}/`, `${site.confDir}/`);
  try {
    const file = inCopy(site.confDir, copy, site.file);
    const link = inCopy(site.confDir, copy, site.link);
    await fs.cp(site.confDir, copy, { recursive: true, verbatimSymlinks: true });
    await retarget(copy, `${site.confDir}/`, `${copy}/`);
    await fs.writeFile(file, site.content.replaceAll(`${site.confDir}/`, `${copy}/`));
    if (site.enable) {
      await fs.rm(link, { force: true });
      await fs.symlink(file, link);
    }
    const prefixArgv = ["-c", join(copy, "nginx.conf")];
    await validateNginx(runner, site.file, { ...opts, prefixArgv }).catch((err: unknown) => {
      if (!(err instanceof ValidationFailed)) throw err;
      const argv = [...(opts.wrap ?? []), ...nginxCheckArgv(prefixArgv)].map(back);
      throw new ValidationFailed(site.file, argv, back(String(err.details?.output ?? "")));
    });
  } finally {
    await fs.rm(copy, { recursive: true, force: true });
  }
}
