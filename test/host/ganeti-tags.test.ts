// Farm membership as Ganeti tags, against gnt-instance 3.0.2 output recorded on the testbed's
// cluster: the add with --tags, the one list call that reads every instance's tags, and Ganeti's
// own refusals of tags it does not take (which farmd must refuse first).
import { describe, expect, it } from "vitest";
import { parseTagList } from "../../src/host/ganeti-parse.js";
import {
  GANETI_MAX_TAG_LEN,
  checkTag,
  farmTags,
  parseFarmTags,
} from "../../src/host/ganeti-tags.js";
import { Ganeti } from "../../src/host/ganeti.js";
import type { RunOptions } from "../../src/host/runner.js";
import { ScriptedRunner, failure, recording } from "../fakes/scripted-runner.js";

const rec = (c: string) => recording(`gnt-instance-3.0.2-${c}.txt`);
const TAG_LIST = ["gnt-instance", "list", "--no-headers", "--separator=|", "-o", "name,tags"];
const REPO = "rel-3-2-repo.xivo.vm.farm";
const GALLIFREY = "gallifrey.xivo.vm.farm";

const add = {
  node: "host01.farm",
  memory: "256M",
  os: "debootstrap+default",
  lvName: "probe",
  mac: "52:54:00:aa:bb:09",
  fqdn: REPO,
};
// The command recorded in gnt-instance-3.0.2-add-tags.txt, as run on the testbed.
const recordedAdd =
  "gnt-instance add -n host01.farm -B memory=256M -o debootstrap+default -t plain --disk 0:adopt=probe --no-install --net 0:mac=52:54:00:aa:bb:09 --tags farmctl:farm:rel-3-2,farmctl:member:repo rel-3-2-repo.xivo.vm.farm";

describe("gnt-instance add --tags", () => {
  it("builds the command Ganeti accepted on the testbed", () => {
    const argv = new Ganeti(new ScriptedRunner()).addArgv({
      ...add,
      tags: farmTags("rel-3-2", "repo"),
    });
    expect(argv).toEqual(recordedAdd.split(" "));
    expect(rec("add-tags")).toContain(`adding instance ${REPO} to cluster config`);
  });

  it("leaves a plain clone's command without --tags", () => {
    const argv = new Ganeti(new ScriptedRunner()).addArgv({ ...add, tags: [] });
    expect(argv).not.toContain("--tags");
    expect(argv.at(-1)).toBe(REPO);
  });

  it("submits the tags with the add job", async () => {
    const submitted = recordedAdd.split(" ");
    submitted.splice(2, 0, "--submit", "--print-jobid");
    const r = new ScriptedRunner([
      {
        argv: submitted,
        stdout: rec("add-submit"),
        stderr: rec("add-submit-stderr"),
        effect: (_a: readonly string[], o: RunOptions) => expect(o.readOnly ?? false).toBe(false),
      },
      { argv: ["gnt-job", "wait", "4"] },
    ]);
    await new Ganeti(r).add({ ...add, tags: farmTags("rel-3-2", "repo") });
    r.assertDone();
  });

  it("refuses before Ganeti every tag Ganeti refused on the testbed", () => {
    // add-tags-invalid: "farmctl:farm:bad name"; add-tags-too-long: 129 characters.
    expect(rec("add-tags-invalid-stderr")).toContain("Tag contains invalid characters");
    expect(rec("add-tags-too-long-stderr")).toContain("Tag too long (>128 characters)");
    const long = `farmctl:farm:${"a".repeat(116)}`;
    expect(long).toHaveLength(GANETI_MAX_TAG_LEN + 1);
    for (const bad of ["farmctl:farm:bad name", "farmctl:farm:bad,name", long, "", "a|b", "é"]) {
      expect(() => checkTag(bad)).toThrow(/is not a valid Ganeti tag/);
    }
    // 128 characters and ops:hand@made were both accepted by gnt-instance add-tags
    expect(checkTag(long.slice(1))).toHaveLength(128);
    expect(checkTag("ops:hand@made")).toBe("ops:hand@made");
    const g = new Ganeti(new ScriptedRunner());
    expect(() => g.addArgv({ ...add, tags: ["farmctl:farm:a,farmctl:farm:b"] })).toThrow(
      /not a valid Ganeti tag/,
    );
    expect(() => farmTags("rel 3", "repo")).toThrow(/not a valid Ganeti tag/);
  });
});

describe("reading instance tags", () => {
  it("reads every instance's tags in one read-only list call", async () => {
    const r = new ScriptedRunner([
      {
        argv: TAG_LIST,
        stdout: rec("list-tags"),
        effect: (_a: readonly string[], o: RunOptions) => expect(o.readOnly).toBe(true),
      },
    ]);
    const tags = await new Ganeti(r).instanceTags();
    expect(tags).toEqual(
      new Map([
        [GALLIFREY, ["farmctl:farm:rel-3-2", "farmctl:member:build-centos7", "ops:hand@made"]],
        [REPO, ["farmctl:farm:rel-3-2", "farmctl:member:repo"]],
      ]),
    );
    r.assertDone();
  });

  it("reads an instance without tags as an empty list", () => {
    expect(parseTagList(rec("list-tags-mixed"))).toEqual(
      new Map([
        [GALLIFREY, []],
        [REPO, ["farmctl:farm:rel-3-2", "farmctl:member:repo"]],
      ]),
    );
    expect(parseTagList("")).toEqual(new Map());
  });

  it("refuses output that is not name|tags", () => {
    for (const bad of ["gallifrey.xivo.vm.farm", "|x", "a|b|c", "gallifrey.xivo.vm.farm|??"]) {
      expect(() => parseTagList(bad)).toThrow(/gnt-instance list/);
    }
  });

  it("is unavailable when Ganeti's master does not answer", async () => {
    const r = new ScriptedRunner([
      { argv: TAG_LIST, stderr: rec("list-luxid-down-stderr"), exitCode: 1 },
    ]);
    expect((await failure(new Ganeti(r).instanceTags())).code).toBe("unavailable");
  });
});

describe("parseFarmTags", () => {
  it("finds the farm and member among other tags", () => {
    const [gallifrey, repo] = [...parseTagList(rec("list-tags")).values()];
    expect(parseFarmTags(gallifrey!)).toEqual({ farm: "rel-3-2", member: "build-centos7" });
    expect(parseFarmTags(repo!)).toEqual({ farm: "rel-3-2", member: "repo" });
  });

  it("gives null for an instance no farm tagged", () => {
    expect(parseFarmTags([])).toEqual({ farm: null, member: null });
    expect(parseFarmTags(["ops:hand@made", "farmctl"])).toEqual({ farm: null, member: null });
    expect(parseFarmTags(["farmctl:farm:rel-3-2"])).toEqual({ farm: "rel-3-2", member: null });
  });

  it("names two farms joined, so the instance matches neither", () => {
    const t = parseFarmTags(["farmctl:farm:a", "farmctl:farm:b", "farmctl:member:x"]);
    expect(t).toEqual({ farm: "a,b", member: "x" });
  });
});
