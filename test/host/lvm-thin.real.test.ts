// The thin recordings against the lvm2 installed here: record.sh restores the hand-written thin
// metadata onto a private loop device (metadata only: no device-mapper) and runs the same lvs
// reports and lvcreate/lvchange commands; their output must be the committed recordings, byte
// for byte. A different lvm2 here fails this, so the recordings are re-made, not trusted.
import { execa } from "execa";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findExecutable } from "../../src/host/which.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const RECORD = join(ROOT, "test/recordings/lvm-thin/record.sh");
const RECORDINGS = join(ROOT, "test/recordings");
const missing = [
  process.getuid?.() !== 0 && "root",
  ...["lvm", "losetup", "unshare", "python3"].filter((t) => !findExecutable(t)),
].filter(Boolean);
const why = missing.length ? ` (skipped: needs ${missing.join(", ")})` : "";
const out = mkdtempSync(join(tmpdir(), "lvm-thin-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** The committed name of what record.sh wrote as `file`. */
const committed = (file: string) =>
  file.startsWith("lvs-")
    ? `lvs-2.03.16-${file.slice(4)}`
    : file.replace(/^(lvcreate|lvchange)-/, "$1-2.03.16-");

describe.skipIf(missing.length)(`thin recordings against this host's lvm2${why}`, () => {
  it("record.sh prints the committed recordings again, and leaves no loop device of its own", async () => {
    await execa("bash", [RECORD, out], { env: { TMPDIR: tmpdir() } });
    const made = readdirSync(out).filter((f) => readFileSync(join(out, f), "utf8") !== "");
    expect(made.length).toBeGreaterThanOrEqual(16);
    for (const f of made)
      expect(readFileSync(join(out, f), "utf8"), f).toBe(
        readFileSync(join(RECORDINGS, committed(f)), "utf8"),
      );
    // Only its own: other tests and testbeds on this machine make and remove loop devices too.
    const loops = (await execa("losetup", ["-l", "-n", "-O", "BACK-FILE"])).stdout;
    expect(loops).not.toContain("farm-thin-rec-");
  });
});
