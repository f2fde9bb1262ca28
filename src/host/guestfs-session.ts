// One libguestfs appliance on one disk: a `guestfish --listen` server, driven one command per argv
// (`guestfish --remote=<pid> -- <cmd> <args>`). Each argument reaches libguestfs as is (sent over
// XDR, never re-parsed); the client only treats a lone ":" as a command separator, a command's
// leading "-" as "ignore its error", and a path argument's "win:" prefix as a Windows path.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BadInput, CommandFailed, OperationFailed } from "../api/errors.js";
import type { GuestEdit, GuestOs, GuestSession } from "../ops/ports.js";
import type { Runner } from "./runner.js";

/** What the session needs of the host's processes; tests give a stand-in. */
export interface ServerProcesses {
  childrenOf(pid: number): number[];
  waitGone(pids: number[], timeoutMs: number): Promise<boolean>;
  /** Kills `pid` only if its argv still holds every word of `mustContain`. */
  killLeftover(pid: number, mustContain: string[]): Promise<boolean>;
  argvOf(pid: number): string[] | null;
}

export interface SessionContext {
  runner: Runner;
  env: Record<string, string>;
  /** The session's private directory (0700): the server's stderr and the files to upload. */
  workDir: string;
  serverLog: string;
  pid: number;
  deadline: number;
  processes: ServerProcesses;
  /** How long close() waits for the server, then for its QEMU, before killing them. */
  exitWaitMs: number;
}

/** An absolute path inside the guest: no NUL, no '..' (spaces, quotes, newlines pass as is). */
export function guestPath(path: string, what = "guest path"): string {
  if (!/^\/[^\0]*$/.test(path) || path.split("/").includes(".."))
    throw new BadInput(`${what} '${path}' must be absolute, without '..' or NUL`);
  return path;
}

function octalMode(mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777)
    throw new BadInput(`file mode ${mode} must be between 0 and 07777`);
  return `0${mode.toString(8)}`;
}

function owner(id: number): string {
  if (!Number.isInteger(id) || id < 0 || id > 2 ** 31 - 1)
    throw new BadInput(`owner id ${id} must be an integer from 0 to 2147483647`);
  return String(id);
}

/** inspect-get-mountpoints prints "<mountpoint>: <device>" lines. */
export function parseMountpoints(out: string): { mountpoint: string; device: string }[] {
  return out
    .split("\n")
    .filter((l) => l.trim())
    .map((line) => {
      const at = line.lastIndexOf(": ");
      const mountpoint = line.slice(0, at);
      const device = line.slice(at + 2);
      if (at < 1 || !mountpoint.startsWith("/") || !device)
        throw new OperationFailed(`inspect-get-mountpoints printed '${line}'`);
      return { mountpoint, device };
    })
    .sort((a, b) => a.mountpoint.length - b.mountpoint.length);
}

export class GuestfishSession implements GuestSession {
  private mounted = false;
  /** A failed command ends the server (guestfish's exit-on-error), and so does close(). */
  private dead = false;
  private closing?: Promise<void>;
  private appliance: number[] = [];
  private uploads = 0;

  constructor(private readonly c: SessionContext) {}

  /** Launches the appliance and notes its processes (QEMU), so close() can see them go. */
  async launch(): Promise<void> {
    await this.call("run");
    this.appliance = this.c.processes.childrenOf(this.c.pid);
  }

  async inspect(): Promise<GuestOs | null> {
    const roots = lines(await this.call("inspect-os"));
    for (const root of roots) {
      const type = (await this.call("inspect-get-type", root)).trim();
      if (type !== "linux") continue;
      const distro = (await this.call("inspect-get-distro", root)).trim();
      const name = (await this.call("inspect-get-hostname", root)).trim();
      for (const { mountpoint, device } of parseMountpoints(
        await this.call("inspect-get-mountpoints", root),
      )) {
        // As guestfish -i does: only the root must mount; another filesystem may fail (a stale
        // fstab entry), and "-mount" keeps the server alive through that error.
        await this.call(mountpoint === "/" ? "mount" : "-mount", device, mountpoint);
      }
      this.mounted = true;
      return { root, type, distro, hostname: name && name !== "unknown" ? name : null };
    }
    return null;
  }

  async readFile(path: string): Promise<string | null> {
    this.needMounted();
    if (!(await this.isFile(guestPath(path)))) return null;
    // read-file prints the bytes as they are; cat would add a newline of its own.
    return this.call("read-file", path);
  }

  async apply(edits: GuestEdit[]): Promise<void> {
    this.needMounted();
    for (const e of edits) await this.edit(e);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    let failure: unknown;
    try {
      if (!this.dead) {
        if (this.mounted) await this.call("umount-all");
        await this.call("sync");
        await this.call("exit");
      }
    } catch (e) {
      failure = e;
    }
    this.dead = true;
    await this.reap();
    rmSync(this.c.workDir, { recursive: true, force: true });
    if (failure) throw failure;
  }

  private async edit(e: GuestEdit): Promise<void> {
    switch (e.op) {
      case "write": {
        const path = guestPath(e.path);
        const [mode, uid, gid] = [octalMode(e.mode), owner(e.uid), owner(e.gid)];
        // The content never reaches a command line: it is uploaded from a private file.
        const local = join(this.c.workDir, `upload-${++this.uploads}`);
        writeFileSync(local, e.content, { mode: 0o600, flag: "wx" });
        try {
          await this.call("upload", local, path);
        } finally {
          rmSync(local, { force: true });
        }
        await this.call("chown", uid, gid, path);
        await this.call("chmod", mode, path);
        return;
      }
      case "delete":
        // glob passes a pattern that matches nothing through as is, and rm-f accepts a missing file.
        await this.call("glob", "rm-f", guestPath(e.path));
        return;
      case "truncate":
        if (await this.isFile(guestPath(e.path))) await this.call("truncate", e.path);
        return;
      case "mkdir": {
        const mode = octalMode(e.mode);
        await this.call("mkdir-p", guestPath(e.path));
        await this.call("chmod", mode, e.path);
        return;
      }
      case "symlink":
        if (!e.target || e.target === ":" || /[\0\n]/.test(e.target))
          throw new BadInput(`symlink target '${e.target}' must be one line, not ':'`);
        await this.call("ln-sf", e.target, guestPath(e.path));
        return;
    }
  }

  private async isFile(path: string): Promise<boolean> {
    return (await this.call("is-file", path, "followsymlinks:true")).trim() === "true";
  }

  private needMounted(): void {
    if (!this.mounted) throw new Error("the guest's filesystems are not mounted: inspect() first");
  }

  /** Runs one command in the server; its output, or the error the server wrote to its log. */
  private async call(cmd: string, ...args: string[]): Promise<string> {
    if (this.dead)
      throw new OperationFailed(
        `guestfish ${cmd}: the appliance of this session has ended`,
        "an earlier command failed; open a new session",
      );
    // A lone ":" would split the command in two on the client's command line.
    if (!/^-?[a-z][a-z0-9-]*$/.test(cmd) || args.includes(":"))
      throw new Error(`refused guestfish argv: ${cmd} ${args.join(" ")}`);
    const argv = ["guestfish", `--remote=${this.c.pid}`, "--", cmd, ...args];
    const logged = sizeOf(this.c.serverLog);
    const left = this.c.deadline - Date.now();
    if (left <= 0) return this.fail(argv, -1, "the session's [guest] timeout_ms ran out");
    const r = await this.c.runner.run(argv, {
      env: this.c.env,
      allowFailure: true,
      timeoutMs: left,
    });
    if (r.exitCode === 0) return r.stdout;
    return this.fail(argv, r.exitCode, readFrom(this.c.serverLog, logged) + r.stderr);
  }

  private fail(argv: string[], exitCode: number, stderr: string): never {
    this.dead = true;
    throw new CommandFailed(argv, exitCode, stderr);
  }

  /** Waits (bounded) for the server, then its QEMU, to exit; kills by PID what is left. */
  private async reap(): Promise<void> {
    const p = this.c.processes;
    const wait = this.c.exitWaitMs;
    if (!(await p.waitGone([this.c.pid], wait))) {
      await p.killLeftover(this.c.pid, ["guestfish", "--listen"]);
      // Killed, it could not remove its socket (guestfish's fixed /tmp/.guestfish-<uid>/).
      rmSync(`/tmp/.guestfish-${process.getuid?.() ?? 0}/socket-${this.c.pid}`, { force: true });
    }
    for (const child of this.appliance) {
      const argv = p.argvOf(child);
      if (argv?.[0] && !(await p.waitGone([child], wait))) await p.killLeftover(child, [argv[0]]);
    }
  }
}

function lines(out: string): string[] {
  return out.split("\n").filter((l) => l.trim());
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** What a file got after byte `offset` (the server's log since a command was sent). */
function readFrom(file: string, offset: number): string {
  try {
    return readFileSync(file).subarray(offset).toString("utf8");
  } catch {
    return "";
  }
}

/** The session's private directory under `base`, mode 0700. */
export function makeWorkDir(base: string): string {
  return mkdtempSync(join(base, "farmd-guestfs-"));
}
