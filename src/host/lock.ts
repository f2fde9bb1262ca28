// A host-wide lock file in the state dir so two farmctl runs never edit the same files at once.
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Busy } from "../api/errors.js";
import { processArgv } from "./process.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie (killed, not yet reaped) answers kill(0) but holds nothing.
    return processArgv(pid) !== null || !existsSync(`/proc/${pid}`);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export interface HostLock {
  release(): void;
}

export function acquireHostLock(stateDir: string, what: string): HostLock {
  const path = join(stateDir, "host.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      writeSync(fd, `${process.pid} ${what}\n`);
      closeSync(fd);
      return { release: () => rmSync(path, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const [pidText, ...rest] = readFileSync(path, "utf8").trim().split(" ");
      const pid = Number(pidText);
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
        throw new Busy(
          `${stateDir} is held by pid ${pid} (${rest.join(" ")})`,
          "only one farmd may own a state directory: stop the other one first",
        );
      }
      rmSync(path, { force: true }); // left by a process that died: take it over
    }
  }
  throw new Busy(`could not take the host lock ${path}`, "run the command again");
}
