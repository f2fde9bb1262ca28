// Config-file writes: temp file beside the target, validation by the service's own checker, backup
// of the previous version, atomic rename. A validation failure puts nothing in place.
import { ValidationFailed } from "../api/errors.js";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { unifiedDiff } from "./diff.js";

export interface FileChange {
  path: string;
  /** New content, or null to remove the file. */
  content: string | null;
}

/** Real path → path of its candidate content, for checkers that must see the new version. */
export type Candidates = Map<string, string>;

export interface HostFiles {
  read(path: string): Promise<string | null>;
  exists(path: string): Promise<boolean>;
  readlink(path: string): Promise<string | null>;
  list(dir: string): Promise<string[]>;
  apply(changes: FileChange[], validate?: (candidates: Candidates) => Promise<void>): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

/** Where the previous version of /etc/bind/db.farm is kept: <backupDir>/etc%bind%db.farm. */
/** An apply's candidate file: `.<name>.farmctl-<8 hex>` beside the file it will replace. */
const TEMP_MARK = ".farmctl-";
const LEFTOVER = /^\..+\.farmctl-[0-9a-f]{8}$/;

/**
 * Removes the candidates a farmd killed during an apply left in `dirs` (a clone's branches edit at
 * once, so a crash can land inside one); at farmd's start, when no apply runs. The paths removed.
 */
export async function sweepApplyLeftovers(dirs: string[]): Promise<string[]> {
  const removed: string[] = [];
  for (const dir of new Set(dirs)) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => LEFTOVER.test(n))) {
      await fs.rm(join(dir, name), { force: true });
      removed.push(join(dir, name));
    }
  }
  return removed;
}

export function backupPath(backupDir: string, path: string): string {
  return join(backupDir, path.replace(/^\//, "").replace(/\//g, "%"));
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

export class RealFiles implements HostFiles {
  /** Backups go to the state dir, not beside the file: /etc stays exactly as the admin left it. */
  constructor(private readonly backupDir: string) {}

  async read(path: string): Promise<string | null> {
    try {
      return await fs.readFile(path, "utf8");
    } catch (err) {
      if (missing(err)) return null;
      throw err;
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fs.lstat(path);
      return true;
    } catch (err) {
      if (missing(err)) return false;
      throw err;
    }
  }

  async readlink(path: string): Promise<string | null> {
    try {
      return await fs.readlink(path);
    } catch (err) {
      if (missing(err) || (err as NodeJS.ErrnoException).code === "EINVAL") return null;
      throw err;
    }
  }

  async list(dir: string): Promise<string[]> {
    try {
      return (await fs.readdir(dir)).sort();
    } catch (err) {
      if (missing(err)) return [];
      throw err;
    }
  }

  async apply(
    changes: FileChange[],
    validate?: (candidates: Candidates) => Promise<void>,
  ): Promise<void> {
    const candidates: Candidates = new Map();
    const tag = randomBytes(4).toString("hex");
    try {
      for (const c of changes) {
        if (c.content === null) continue;
        const tmp = join(dirname(c.path), `.${basename(c.path)}${TEMP_MARK}${tag}`);
        candidates.set(c.path, tmp); // before writing: a write that fails half way is removed too
        await writeSynced(tmp, c.content, c.path);
      }
      await validate?.(candidates).catch((err: unknown) => {
        throw namingRealPaths(err, candidates);
      });
      for (const c of changes) {
        if (await this.exists(c.path)) await this.backup(c.path);
        const tmp = candidates.get(c.path);
        if (tmp) await fs.rename(tmp, c.path);
        else await fs.rm(c.path, { force: true });
        await syncDir(dirname(c.path));
      }
    } finally {
      for (const tmp of candidates.values()) await fs.rm(tmp, { force: true });
    }
  }

  /** On disk before the file it saves is replaced: the backup is what a rollback restores from. */
  private async backup(path: string): Promise<void> {
    await fs.mkdir(this.backupDir, { recursive: true, mode: 0o700 });
    const copy = backupPath(this.backupDir, path);
    await fs.copyFile(path, copy);
    await syncFile(copy);
    await syncDir(this.backupDir);
  }

  async symlink(target: string, path: string): Promise<void> {
    await fs.symlink(target, path);
    await syncDir(dirname(path));
  }

  async unlink(path: string): Promise<void> {
    await fs.rm(path, { force: true });
    await syncDir(dirname(path));
  }
}

/** The temp file's bytes reach the disk before the rename makes them the file: no empty file after a power cut. */
async function writeSynced(path: string, content: string, ownerOf: string): Promise<void> {
  const fh = await fs.open(path, "wx", 0o644);
  try {
    await fh.writeFile(content, "utf8");
    await copyOwnership(ownerOf, fh);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncFile(path: string): Promise<void> {
  const fh = await fs.open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A rename (or unlink) is durable only once its directory is synced. */
const syncDir = syncFile;

async function copyOwnership(from: string, to: fs.FileHandle): Promise<void> {
  try {
    const st = await fs.stat(from);
    await to.chmod(st.mode & 0o7777);
    await to.chown(st.uid, st.gid);
  } catch (err) {
    if (!missing(err)) throw err;
  }
}

/** Reads the host for real, writes nothing: each change becomes a unified diff in the plan. */
export class DryRunFiles implements HostFiles {
  private readonly overlay = new Map<string, string | null>();
  private readonly links = new Map<string, string | null>();

  constructor(
    private readonly real: HostFiles,
    private readonly report: (path: string, diff: string) => void,
  ) {}

  async read(path: string): Promise<string | null> {
    return this.overlay.has(path) ? this.overlay.get(path)! : this.real.read(path);
  }

  async exists(path: string): Promise<boolean> {
    if (this.links.has(path)) return this.links.get(path) !== null;
    return this.overlay.has(path) ? this.overlay.get(path) !== null : this.real.exists(path);
  }

  async readlink(path: string): Promise<string | null> {
    return this.links.has(path) ? this.links.get(path)! : this.real.readlink(path);
  }

  list(dir: string): Promise<string[]> {
    return this.real.list(dir);
  }

  /** Validates the candidates with the real checkers from a temp dir, so the plan shows a refusal too. */
  async apply(
    changes: FileChange[],
    validate?: (candidates: Candidates) => Promise<void>,
  ): Promise<void> {
    const dir = await fs.mkdtemp(join(process.env.TMPDIR ?? "/tmp", "farmctl-plan-"));
    try {
      const candidates: Candidates = new Map();
      for (const [i, c] of changes.entries()) {
        if (c.content === null) continue;
        const tmp = join(dir, `${i}-${basename(c.path)}`);
        await fs.writeFile(tmp, c.content);
        candidates.set(c.path, tmp);
      }
      await validate?.(candidates);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    for (const c of changes) {
      const before = await this.read(c.path);
      this.report(c.path, unifiedDiff(c.path, before, c.content));
      this.overlay.set(c.path, c.content);
    }
  }

  async symlink(target: string, path: string): Promise<void> {
    this.links.set(path, target);
    this.report(path, `symlink ${path} -> ${target}\n`);
  }

  async unlink(path: string): Promise<void> {
    this.links.set(path, null);
    this.report(path, `remove ${path}\n`);
  }
}

/**
 * Copies `dir` into a temp dir with the candidate versions of its files swapped in, for checkers
 * that read a whole directory (shorewall), runs `fn` on it, and removes it.
 */
export async function withCandidateDir<T>(
  dir: string,
  candidates: Candidates,
  fn: (copy: string) => Promise<T>,
): Promise<T> {
  const copy = await fs.mkdtemp(join(process.env.TMPDIR ?? "/tmp", "farmctl-check-"));
  try {
    await fs.cp(dir, copy, { recursive: true, dereference: true });
    for (const [real, tmp] of candidates) await fs.copyFile(tmp, join(copy, basename(real)));
    return await fn(copy);
  } finally {
    await fs.rm(copy, { recursive: true, force: true });
  }
}

/** A checker's refusal names the file the admin knows, not the hidden temp file it read. */
function namingRealPaths(err: unknown, candidates: Candidates): unknown {
  if (!(err instanceof ValidationFailed)) return err;
  const real = (text: string) =>
    [...candidates].reduce((t, [path, tmp]) => t.split(tmp).join(path), text);
  const { file, checker, output } = err.details as {
    file: string;
    checker: string[];
    output: string;
  };
  return new ValidationFailed(real(file), checker.map(real), real(output));
}
