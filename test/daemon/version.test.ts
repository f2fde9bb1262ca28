// farmd's version and API version: in GET /v1/health and on every answer; farmctl --version prints
// both, and a farmctl facing a farmd of another API names both versions and the fix.
import { execa } from "execa";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { API_VERSION, API_VERSION_HEADER, VERSION } from "../../src/api/version.js";
import { FarmdClient } from "../../src/client/http.js";
import { versionRequest } from "../../src/cli/version.js";
import { FARMCTL } from "../cli/farmd-process.js";
import { failure } from "../fakes/scripted-runner.js";
import { harness, type Harness } from "../ops/clone-harness.js";
import { clientConfig, serveFarmd, type ServedFarmd } from "./farmd-server.js";

const PACKAGE_VERSION = (await import("../../package.json", { with: { type: "json" } })).default
  .version;

let h: Harness | undefined;
let served: ServedFarmd | undefined;
let other: { server: Server; dir: string } | undefined;
afterEach(async () => {
  await served?.close();
  served = undefined;
  h?.cleanup();
  h = undefined;
  if (other) {
    await new Promise<void>((r) => other!.server.close(() => r()));
    rmSync(other.dir, { recursive: true, force: true });
    other = undefined;
  }
});

/** A farmd that speaks API v2: its health, and its header on every answer. */
async function futureFarmd(): Promise<{ socket: string; config: string }> {
  const dir = mkdtempSync(join(tmpdir(), "farm-api2-"));
  const socket = join(dir, "farmd.sock");
  const config = join(dir, "farmd.toml");
  writeFileSync(config, `state_dir = "${dir}/state"\nsocket = "${socket}"\n`);
  const server = createServer((req, res) => {
    res.writeHead(200, {
      "content-type": "application/json",
      [API_VERSION_HEADER]: String(API_VERSION + 1),
      "farmd-version": "9.0.0",
    });
    res.end(
      JSON.stringify(
        req.url === "/v1/health"
          ? { ok: true, pid: 1, version: "9.0.0", apiVersion: API_VERSION + 1 }
          : { vms: [] },
      ),
    );
  });
  await new Promise<void>((r) => server.listen(socket, r));
  other = { server, dir };
  return { socket, config };
}

describe("versions", () => {
  it("farmctl --version takes the remote flags, and nothing else", () => {
    expect(versionRequest(["--version"])).toEqual({});
    expect(
      versionRequest(["--remote", "https://h:8443", "--cert", "c.pem", "--key", "k.pem", "-V"]),
    ).toEqual({
      remote: "https://h:8443",
      cert: "c.pem",
      key: "k.pem",
    });
    expect(versionRequest(["list", "--version"])).toBeNull();
    expect(versionRequest(["--remote"])).toBeNull();
    expect(versionRequest([])).toBeNull();
  });

  it("GET /v1/health says farmd's package version and API version", async () => {
    h = harness();
    served = await serveFarmd(h);
    const health = await served.client.health();
    expect(health).toMatchObject({ ok: true, version: PACKAGE_VERSION, apiVersion: API_VERSION });
    expect(VERSION).toBe(PACKAGE_VERSION);
  });

  it("farmctl --version prints its own and farmd's", async () => {
    h = harness();
    served = await serveFarmd(h);
    const r = await execa("node", [FARMCTL, "--version"], {
      env: { FARMD_CONFIG: clientConfig(h, served) },
    });
    expect(r.stdout).toBe(`farmctl ${PACKAGE_VERSION} (API v1)\nfarmd ${PACKAGE_VERSION} (API v1)`);
  });

  it("farmctl --version still prints its own when farmd is down, and exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "farm-down-"));
    try {
      writeFileSync(join(dir, "farmd.toml"), `socket = "${dir}/none.sock"\n`);
      const r = await execa("node", [FARMCTL, "-V"], {
        env: { FARMD_CONFIG: join(dir, "farmd.toml") },
      });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(
        `farmctl ${PACKAGE_VERSION} (API v1)\nfarmd: farmd is not running (no answer on ${dir}/none.sock); start it: \`systemctl start farmd\`, or run \`farmd\` as root (see farmd(8))`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a farmd of another API: the client names both versions and the fix, for any request", async () => {
    const { socket, config } = await futureFarmd();
    const err = await failure(new FarmdClient(socket).vms());
    expect(err).toMatchObject({ code: "api_mismatch", exitCode: 69 });
    expect(err.message).toBe(
      `farmctl ${PACKAGE_VERSION} speaks farmd API v1, but farmd 9.0.0 speaks API v2`,
    );
    expect(err.hint).toBe("upgrade farmctl to farmd's version (the same package installs both)");
    const list = await execa("node", [FARMCTL, "list"], {
      env: { FARMD_CONFIG: config },
      reject: false,
    });
    expect(list.exitCode).toBe(69);
    expect(list.stderr).toContain("but farmd 9.0.0 speaks API v2");
    const version = await execa("node", [FARMCTL, "--version"], { env: { FARMD_CONFIG: config } });
    expect(version.stdout).toBe(`farmctl ${PACKAGE_VERSION} (API v1)`);
    expect(version.stderr).toBe(
      `farmd: farmctl ${PACKAGE_VERSION} speaks farmd API v1, but farmd 9.0.0 speaks API v2; upgrade farmctl to farmd's version (the same package installs both)`,
    );
  });
});
