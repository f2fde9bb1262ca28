// `farmctl completion bash` in real bash: commands and options as commander defines them, the
// option values skipped, file names where a file goes, and VM names asked of farmd (none, silently,
// when farmd is down).
import { execa } from "execa";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FARMCTL } from "./farmd-process.js";
import { scriptedFarmd } from "./scripted-farmd.js";

const farmd = scriptedFarmd();
const bin = mkdtempSync(join(tmpdir(), "farm-completion-"));
afterAll(() => rmSync(bin, { recursive: true, force: true }));
let script = "";

beforeAll(async () => {
  // farmctl on PATH, as the package installs it: the script calls `farmctl __complete-vms`.
  writeFileSync(join(bin, "farmctl"), `#!/bin/sh\nexec node ${FARMCTL} "$@"\n`);
  chmodSync(join(bin, "farmctl"), 0o755);
  script = join(bin, "farmctl.bash");
  writeFileSync(script, (await execa("node", [FARMCTL, "completion", "bash"])).stdout);
});

/** What bash completes for the words typed so far (the last one is being typed). */
async function complete(
  words: string[],
  config = join(farmd.dir, "farmd.toml"),
): Promise<{ words: string[]; stderr: string }> {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const r = await execa(
    "bash",
    [
      "-c",
      `source '${script}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _farmctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { env: { PATH: `${bin}:${process.env.PATH}`, FARMD_CONFIG: config }, cwd: bin },
  );
  return { words: r.stdout.split("\n").filter(Boolean), stderr: r.stderr };
}

describe("farmctl completion bash", () => {
  it("completes the commands `farmctl --help` lists", async () => {
    const help = (await execa("node", [FARMCTL, "--help"])).stdout;
    const listed = [...help.split("Commands:")[1]!.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    expect((await complete(["farmctl", ""])).words).toEqual(listed);
    expect((await complete(["farmctl", "fa"])).words).toEqual(["farm"]);
    expect((await complete(["farmctl", "farm", ""])).words).toEqual([
      "init",
      "plan",
      "up",
      "down",
      "status",
      "list",
      "help",
    ]);
  });

  it("completes a command's own options and farmctl's global ones", async () => {
    const clone = (await complete(["farmctl", "clone", "--"])).words;
    for (const o of ["--group", "--dry-run", "--bwlimit", "--json", "--remote", "--help"])
      expect(clone).toContain(o);
    expect((await complete(["farmctl", "doctor", "--j"])).words).toEqual(["--json"]);
    expect((await complete(["farmctl", "farm", "up", "--det"])).words).toEqual(["--detach"]);
  });

  it("skips an option's value, and completes a file where the option takes one", async () => {
    writeFileSync(join(bin, "vars.toml"), "");
    expect((await complete(["farmctl", "clone", "--config", "var"])).words).toEqual(["vars.toml"]);
    // --group's value is not a command: `farmctl clone --group xivo gal<TAB>` is still the source.
    farmd.answers.set("GET /v1/vms", { status: 200, body: { vms: [{ name: "gallifrey" }] } });
    expect((await complete(["farmctl", "clone", "--group", "xivo", "gal"])).words).toEqual([
      "gallifrey",
    ]);
  });

  it("completes VM names from farmd where a command takes an existing VM, not a new name", async () => {
    farmd.answers.set("GET /v1/vms", {
      status: 200,
      body: { vms: [{ name: "gallifrey" }, { name: "gallifrey-dev" }, { name: "builder-1" }] },
    });
    expect((await complete(["farmctl", "show", "gal"])).words).toEqual([
      "gallifrey",
      "gallifrey-dev",
    ]);
    expect((await complete(["farmctl", "destroy", ""])).words).toEqual([
      "gallifrey",
      "gallifrey-dev",
      "builder-1",
    ]);
    expect((await complete(["farmctl", "clone", "gallifrey", "gal"])).words).toEqual([]);
  });

  it("says nothing, and completes nothing, when farmd is down", async () => {
    const down = join(bin, "down.toml");
    writeFileSync(down, `socket = "${join(bin, "none.sock")}"\n`);
    expect(await complete(["farmctl", "show", ""], down)).toEqual({ words: [], stderr: "" });
  });

  it("refuses a shell it has no script for, with usage's exit code", async () => {
    const r = await execa("node", [FARMCTL, "completion", "zsh"], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("no completion for 'zsh'; only bash");
  });
});
