// A cgroupfs stand-in in a temp dir, for the hierarchies this machine lacks (cgroup v2 with io).
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { CgroupFs } from "../../src/host/throttle/cgroup.js";

export interface FakeCgroupFs extends CgroupFs {
  root: string;
  /** What the kernel does when the cgroup's processes exit: cgroup.procs empties. */
  exited(dir: string): void;
  remove(): void;
}

/** A unified hierarchy whose root offers `controllers` (e.g. "cpu io memory pids"). */
export function fakeCgroup2(controllers: string): FakeCgroupFs {
  const root = mkdtempSync(join(tmpdir(), "farmctl-cgroup2-"));
  writeFileSync(join(root, "cgroup.controllers"), controllers);
  writeFileSync(join(root, "cgroup.subtree_control"), "");
  writeFileSync(join(root, "cgroup.procs"), "");
  return {
    root,
    mkdir(p) {
      mkdirSync(p); // EEXIST as cgroupfs
      writeFileSync(join(p, "cgroup.procs"), "");
      writeFileSync(join(p, "io.max"), "");
    },
    write(p, text) {
      const name = basename(p);
      if (name === "cgroup.procs") return appendFileSync(p, `${text}\n`);
      if (name === "cgroup.subtree_control") {
        const on = new Set(readFileSync(p, "utf8").split(/\s+/).filter(Boolean));
        for (const w of text.split(/\s+/)) if (w.startsWith("+")) on.add(w.slice(1));
        return writeFileSync(p, [...on].join(" "));
      }
      writeFileSync(p, text);
    },
    read: (p) => readFileSync(p, "utf8"),
    list: (d) => readdirSync(d).filter((n) => statSync(join(d, n)).isDirectory()),
    rmdir(p) {
      if (readFileSync(join(p, "cgroup.procs"), "utf8").trim() !== "")
        throw Object.assign(new Error(`EBUSY: resource busy, rmdir '${p}'`), { code: "EBUSY" });
      rmSync(p, { recursive: true });
    },
    exited: (dir) => writeFileSync(join(dir, "cgroup.procs"), ""),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
