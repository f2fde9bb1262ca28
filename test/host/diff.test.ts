import { describe, expect, it } from "vitest";
import { execa } from "execa";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unifiedDiff } from "../../src/host/diff.js";

/** Applies our diff with the real `patch` to prove it is a valid unified diff. */
async function roundTrip(before: string, after: string) {
  const dir = mkdtempSync(join(tmpdir(), "diff-"));
  try {
    writeFileSync(join(dir, "f"), before);
    writeFileSync(join(dir, "p"), unifiedDiff("f", before, after));
    await execa("patch", ["-s", join(dir, "f"), join(dir, "p")]);
    return readFileSync(join(dir, "f"), "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("unifiedDiff", () => {
  const base = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n") + "\n";
  it("is empty for equal texts", () => expect(unifiedDiff("f", base, base)).toBe(""));
  it("shows an appended block with context", () => {
    const d = unifiedDiff("/etc/bind/db.farm", base, base + "new 1\nnew 2\n");
    expect(d).toContain(
      "--- /etc/bind/db.farm\n+++ /etc/bind/db.farm\n@@ -28,3 +28,5 @@\n line 27\n line 28\n line 29\n+new 1\n+new 2\n",
    );
  });
  it("shows a new file against /dev/null", () => {
    expect(unifiedDiff("site", null, "server {}\n")).toBe(
      "--- /dev/null\n+++ site\n@@ -0,0 +1,1 @@\n+server {}\n",
    );
  });
  it("applies with the real patch for edits at both ends", async () => {
    const after = base
      .replace("line 0\n", "serial 2\n")
      .replace("line 29\n", "line 29\nadded\n")
      .replace("line 15\n", "");
    expect(await roundTrip(base, after)).toBe(after);
  });
});
