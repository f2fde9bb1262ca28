import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { killLeftover, processArgv } from "../../src/host/process.js";

describe("a process left behind", () => {
  it("is killed only while its argv is still the recorded command", async () => {
    const child = execa("sleep", ["300"], { reject: false });
    const pid = child.pid!;
    expect(processArgv(pid)).toEqual(["sleep", "300"]);
    expect(await killLeftover(pid, ["dd", "of=/dev/all/gallifrey-dev"])).toBe(false); // not that dd
    expect(processArgv(pid)).not.toBeNull();
    expect(await killLeftover(pid, ["sleep", "300"])).toBe(true);
    expect((await child).signal).toBe("SIGKILL");
    expect(processArgv(pid)).toBeNull();
    expect(await killLeftover(pid, ["sleep", "300"])).toBe(false); // gone: nothing to do
  });
});
