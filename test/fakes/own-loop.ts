// A loop device of the test's own on a sparse temporary file: tests that only need a real block
// device (to stat its MAJ:MIN) must not borrow one that another test may detach meanwhile.
import { execa } from "execa";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface OwnLoop {
  /** `/dev/loopN` */
  dev: string;
  /** Detaches the device and removes its file; safe to call twice. */
  release(): Promise<void>;
}

export async function attachOwnLoop(sizeBytes = 16 * 2 ** 20): Promise<OwnLoop> {
  const dir = mkdtempSync(join(tmpdir(), "farmctl-own-loop-"));
  const file = join(dir, "disk.img");
  try {
    await execa("truncate", ["-s", String(sizeBytes), file]);
    const dev = (await execa("losetup", ["--find", "--show", file])).stdout.trim();
    let released = false;
    return {
      dev,
      release: async () => {
        if (released) return;
        released = true;
        await execa("losetup", ["-d", dev], { reject: false });
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
