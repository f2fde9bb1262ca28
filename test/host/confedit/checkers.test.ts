import { describe, expect, it } from "vitest";
import { ValidationFailed } from "../../../src/api/errors.js";
import {
  dhcpdCheckArgv,
  dhcpdMessage,
  namedCheckzoneArgv,
  nginxCheckArgv,
  nginxPrefixArgv,
  shorewallCheckArgv,
  validateDhcpd,
  validateNginx,
  validateShorewall,
  validateZone,
} from "../../../src/host/confedit/checkers.js";
import { recording, ScriptedRunner } from "../../fakes/scripted-runner.js";

// dhcpd 4.4.3's real answer to a bad MAC, captured with `dhcpd -t -4 -cf /tmp/x/dhcpd.conf`.
const DHCPD_ERR = recording("dhcpd-4.4.3-check-bad-mac-stderr.txt");

describe("checker argv", () => {
  it("builds each service's own check", () => {
    expect(namedCheckzoneArgv("farm", "/tmp/db.farm")).toEqual([
      "named-checkzone",
      "-k",
      "fail",
      "farm",
      "/tmp/db.farm",
    ]);
    expect(dhcpdCheckArgv("/tmp/dhcpd.conf")).toEqual([
      "dhcpd",
      "-t",
      "-4",
      "-cf",
      "/tmp/dhcpd.conf",
    ]);
    expect(nginxCheckArgv()).toEqual(["nginx", "-t", "-q"]);
    expect(nginxCheckArgv(nginxPrefixArgv("/p", "/p/nginx.conf", "/p/error.log"))).toEqual([
      "nginx",
      "-t",
      "-q",
      "-p",
      "/p",
      "-c",
      "/p/nginx.conf",
      "-e",
      "/p/error.log",
    ]);
    expect(shorewallCheckArgv("/tmp/sw")).toEqual(["shorewall", "check", "/tmp/sw"]);
  });

  it("keeps dhcpd's message and drops its banner and plea", () => {
    expect(dhcpdMessage(DHCPD_ERR)).toBe(
      "/tmp/x/dhcpd.conf line 2: expecting numeric value.\n hardware ethernet 52:54:00:zz:\n" +
        "                            ^\nConfiguration file errors encountered -- exiting",
    );
  });
});

describe("validate", () => {
  it("returns the checker's output on success", async () => {
    const r = new ScriptedRunner([
      { argv: namedCheckzoneArgv("farm", "/f"), stdout: "zone farm/IN: loaded serial 2\nOK\n" },
    ]);
    await expect(validateZone(r, "farm", "/f")).resolves.toContain("OK");
    r.assertDone();
  });

  it("turns a refusal into ValidationFailed with the message", async () => {
    const r = new ScriptedRunner([{ argv: dhcpdCheckArgv("/f"), stderr: DHCPD_ERR, exitCode: 1 }]);
    const err = await validateDhcpd(r, "/f").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    const v = err as ValidationFailed;
    expect(v.hint).toContain("line 2: expecting numeric value");
    expect(v.details).toMatchObject({ file: "/f", checker: ["dhcpd", "-t", "-4", "-cf", "/f"] });
    r.assertDone();
  });

  it("wraps shorewall in a throw-away netns by default", async () => {
    const r = new ScriptedRunner([
      {
        argv: ["unshare", "--net", "shorewall", "check", "/d"],
        stderr: "   ERROR: x (line 3)\n",
        exitCode: 255,
      },
    ]);
    await expect(validateShorewall(r, "/d", { file: "/d/rules" })).rejects.toThrow(
      /\/d\/rules: rejected by unshare --net shorewall check \/d/,
    );
    r.assertDone();
  });

  it("runs checkers as read-only queries, so dry runs validate too", async () => {
    const seen: boolean[] = [];
    const r = new ScriptedRunner([
      {
        argv: ["w", "nginx", "-t", "-q", "-p", "/p"],
        effect: (_, o) => void seen.push(!!o.readOnly),
      },
    ]);
    await validateNginx(r, "/p/site", { wrap: ["w"], prefixArgv: ["-p", "/p"] });
    expect(seen).toEqual([true]);
  });
});
