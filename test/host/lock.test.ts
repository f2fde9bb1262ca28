import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireHostLock } from "../../src/host/lock.js";
import { Busy } from "../../src/api/errors.js";

const made: string[] = [];
const lockDir = () => {
  made.push(mkdtempSync(join(tmpdir(), "farm-lock-")));
  return made.at(-1)!;
};
afterEach(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("host lock", () => {
  it("keeps a second farmctl out while the first holds it, then lets it in", () => {
    const dir = lockDir();
    const first = acquireHostLock(dir, "clone gallifrey gallifrey-dev");
    let err: unknown;
    try {
      acquireHostLock(dir, "clone gallifrey gallifrey-qa");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Busy);
    expect((err as Busy).exitCode).toBe(75);
    expect((err as Busy).message).toBe(
      `${dir} is held by pid ${process.pid} (clone gallifrey gallifrey-dev)`,
    );
    first.release();
    acquireHostLock(dir, "clone gallifrey gallifrey-qa").release();
  });

  it("takes over a lock left by a process that died", () => {
    const dir = lockDir();
    writeFileSync(join(dir, "host.lock"), "999999999 clone crashed\n");
    const lock = acquireHostLock(dir, "clone again");
    expect(readFileSync(join(dir, "host.lock"), "utf8")).toBe(`${process.pid} clone again\n`);
    lock.release();
  });
});
