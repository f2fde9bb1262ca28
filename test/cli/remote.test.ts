// `farmctl --remote` (the built binary) against farmd's TLS listener over the simulated host: the
// same output as on the host; refusals (role, unknown CA, revoked, bad files) exit 77 or 64 with a
// hint. Then the farmd process itself: its listener starts once its CA exists and stops with it.
import { execa } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TlsListener } from "../../src/daemon/tls.js";
import { TestCa } from "../daemon/tls-certs.js";
import { serveTls, until } from "../daemon/tls-server.js";
import { FARMCTL, farmctl as farmctlOn, startFarmd } from "./farmd-process.js";
import { simulatedFarmd } from "./simulated-farmd.js";

const sim = simulatedFarmd();
let listener: TlsListener;
let dir: string;
let remote: string;

/** farmctl with only `env` (no FARMD_CONFIG: a forgotten --remote would find no socket). */
const run = (env: Record<string, string>, ...args: string[]) =>
  execa("node", [FARMCTL, ...args], {
    reject: false,
    extendEnv: false,
    env: { PATH: process.env.PATH!, HOME: dir, XDG_CONFIG_HOME: join(dir, "config"), ...env },
  });
const as = (name: string, ...args: string[]) =>
  run(
    {},
    "--remote",
    remote,
    "--cert",
    join(dir, `${name}.pem`),
    "--key",
    join(dir, `${name}.key`),
    ...args,
  );

beforeAll(async () => {
  listener = await serveTls(sim.farmd);
  remote = `https://localhost:${new URL(listener.url).port}`;
  dir = join(sim.h.root, "client");
  mkdirSync(dir);
  for (const [name, role] of [
    ["builder", "admin"],
    ["ci-reader", "reader"],
    ["gone", "operator"],
  ])
    expect((await sim.farmctl("ca", "issue", name!, "--role", role!, "--out", dir)).exitCode).toBe(
      0,
    );
  await sim.farmctl("ca", "revoke", "gone");
  const other = await TestCa.create(join(dir, "other"), "another CA");
  const stranger = await other.sign("stranger");
  writeFileSync(join(dir, "stranger.pem"), readFileSync(stranger.pemFile));
  writeFileSync(join(dir, "stranger.key"), readFileSync(stranger.keyFile));
  writeFileSync(join(dir, "other-ca.pem"), readFileSync(join(other.dir, "ca.pem")));
});
afterAll(() => listener?.close());

describe("farmctl --remote", () => {
  it("prints what farmctl prints on the host", async () => {
    for (const args of [["list"], ["list", "--json"], ["ops", "--json"], ["ca", "list"]]) {
      const local = await sim.farmctl(...args);
      const far = await as("builder", ...args);
      expect(far.exitCode, far.stderr).toBe(0);
      expect(far.stdout, args.join(" ")).toBe(local.stdout);
    }
  });

  it("exits 77 when a reader clones, naming the role needed, and changes nothing", async () => {
    const r = await as("ci-reader", "clone", "gallifrey", "gallifrey-dev");
    expect(r.exitCode).toBe(77);
    expect(r.stderr).toContain("needs role operator; cert:ci-reader has role reader");
    expect(r.stderr).toContain("farmctl ca issue");
    expect(sim.h.runner.mutations()).toEqual([]);
  });

  it("takes FARMCTL_* and ~/.config/farmctl/config.toml; flags win over env, env over the file", async () => {
    const cert = join(dir, "builder.pem");
    const key = join(dir, "builder.key");
    const local = (await sim.farmctl("list")).stdout;
    const env = await run({ FARMCTL_REMOTE: remote, FARMCTL_CERT: cert, FARMCTL_KEY: key }, "list");
    expect([env.exitCode, env.stdout]).toEqual([0, local]);
    mkdirSync(join(dir, "config/farmctl"), { recursive: true });
    const file = `remote = "${remote}"\ncert = "../../builder.pem"\nkey = "${key}"\n`;
    writeFileSync(join(dir, "config/farmctl/config.toml"), file);
    const fromFile = await run({}, "list");
    expect([fromFile.exitCode, fromFile.stdout]).toEqual([0, local]);
    // The file names the reader's certificate; FARMCTL_CERT and FARMCTL_KEY name the admin's.
    writeFileSync(
      join(dir, "config/farmctl/config.toml"),
      `remote = "https://localhost:1"\ncert = "${join(dir, "ci-reader.pem")}"\nkey = "${join(dir, "ci-reader.key")}"\n`,
    );
    const over = await run(
      { FARMCTL_CERT: cert, FARMCTL_KEY: key },
      "--remote",
      remote,
      "ca",
      "list",
    );
    expect(over.exitCode, over.stderr).toBe(0);
    rmSync(join(dir, "config"), { recursive: true });
  });

  it("exits 77 with a hint when farmd refuses the certificate or farmctl cannot trust farmd's", async () => {
    const farmdCa = ["--ca", join(sim.h.root, "state/ca/ca.pem")];
    const stranger = await as("stranger", ...farmdCa, "list");
    expect(stranger.exitCode).toBe(77);
    expect(stranger.stderr).toContain(`farmd at ${remote} refused the client certificate`);
    expect(stranger.stderr).toContain("farmctl ca issue");
    const revoked = await as("gone", "list");
    expect(revoked.exitCode).toBe(77);
    expect(revoked.stderr).toMatch(/certificate 'gone' \(serial \w+\) is revoked/);
    const untrusted = await as("builder", "--ca", join(dir, "other-ca.pem"), "list");
    expect(untrusted.exitCode).toBe(77);
    expect(untrusted.stderr).toContain(`farmd's certificate at ${remote} is not trusted`);
    expect(untrusted.stderr).toContain("give --ca FILE");
  });

  it("refuses what cannot work before connecting: usage 64, bad files 65", async () => {
    const cert = join(dir, "builder.pem");
    const leafOnly = join(dir, "leaf.pem");
    writeFileSync(leafOnly, readFileSync(cert, "utf8").split(/(?<=END CERTIFICATE-----\n)/)[0]!);
    const cases: [string[], number, string][] = [
      [["--remote", remote, "list"], 64, "needs a client certificate and its key"],
      [
        ["--remote", "http://localhost:1", "--cert", cert, "--key", cert, "list"],
        64,
        "is not an https URL",
      ],
      [["--cert", cert, "list"], 64, "--cert is given without --remote"],
      [
        ["--remote", remote, "--cert", cert, "--key", join(dir, "ci-reader.key"), "list"],
        65,
        "is not the key of",
      ],
      [
        ["--remote", remote, "--cert", leafOnly, "--key", join(dir, "builder.key"), "list"],
        64,
        "give --ca FILE",
      ],
      [
        ["--remote", remote, "--cert", join(dir, "none.pem"), "--key", cert, "list"],
        64,
        "cannot read --cert",
      ],
    ];
    for (const [args, code, says] of cases) {
      const r = await run({}, ...args);
      expect([r.exitCode, r.stderr], args.join(" ")).toEqual([code, expect.stringContaining(says)]);
    }
  });
});

describe("farmd with [api] listen", () => {
  it("listens once its CA exists, serves farmctl --remote and curl, and stops listening with farmd", async () => {
    const home = mkdtempSync(join(tmpdir(), "farmd-tls-"));
    const api = '[api]\nlisten = "127.0.0.1:0"\nnames = ["localhost"]\n';
    const cert = ["--cert", join(home, "ci.pem"), "--key", join(home, "ci.key")];
    try {
      const first = await startFarmd(api, home);
      await until(() => first.stderr().includes("farmd's CA was never initialised"), "the warning");
      const init = await farmctlOn(first.config, "ca", "init");
      expect(init.exitCode, init.stderr).toBe(0);
      // No restart: the listener that waited for the CA starts with it.
      const listening = /farmd listens on https:\/\/127\.0\.0\.1:(\d+) \(TLS 1\.3/.exec(
        init.stdout,
      );
      expect(listening, init.stdout).not.toBeNull();
      expect(first.stderr()).toContain(`listening on https://127.0.0.1:${listening![1]} (TLS 1.3`);
      const issued = await farmctlOn(
        first.config,
        "ca",
        "issue",
        "ci",
        "--role",
        "reader",
        "--out",
        home,
      );
      expect(issued.exitCode, issued.stderr).toBe(0);
      const early = await run(
        {},
        "--remote",
        `https://localhost:${listening![1]}`,
        ...cert,
        "ops",
        "--json",
      );
      expect([early.exitCode, early.stdout], early.stderr).toEqual([
        0,
        (await farmctlOn(first.config, "ops", "--json")).stdout,
      ]);
      const again = await farmctlOn(first.config, "ca", "init");
      expect(again.stdout).not.toContain("listens on");
      await first.stop();

      const farmd = await startFarmd(api, home);
      const said =
        /listening on https:\/\/127\.0\.0\.1:(\d+) \(TLS 1\.3, client certificates of farmd's CA\)/;
      await until(() => said.test(farmd.stderr()), "farmd logs its https listener");
      const url = `https://localhost:${said.exec(farmd.stderr())![1]}`;
      const wrongName = await run(
        {},
        "--remote",
        url.replace("localhost", "127.0.0.1"),
        ...cert,
        "list",
      );
      expect(wrongName.exitCode).toBe(77);
      expect(wrongName.stderr).toContain("a --remote host name the server certificate carries");
      // No Ganeti on this host: `ops` is what answers here without one.
      const far = await run({}, "--remote", url, ...cert, "ops", "--json");
      expect(far.exitCode, far.stdout).toBe(0);
      expect(far.stdout).toBe((await farmctlOn(farmd.config, "ops", "--json")).stdout);
      const cacert = ["--cacert", join(home, "state/ca/ca.pem")];
      const curl = await execa("curl", ["-sS", ...cert, ...cacert, `${url}/v1/operations`]);
      expect(JSON.parse(curl.stdout)).toEqual({ operations: [] });
      await farmd.stop();
      expect(farmd.stderr()).toContain("stopped");
      const after = await run({}, "--remote", url, ...cert, "list");
      expect([after.exitCode, after.stderr]).toEqual([69, expect.stringContaining("ECONNREFUSED")]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("exits 75 when the listen address is taken at start, removing its socket; after ca init it runs on", async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, "127.0.0.1", r));
    const home = mkdtempSync(join(tmpdir(), "farmd-tls-"));
    try {
      const port = (taken.address() as { port: number }).port;
      const farmd = await startFarmd(`[api]\nlisten = "127.0.0.1:${port}"\n`, home);
      // The CA first: without it farmd would not try to listen. Then it tries, and runs on.
      const init = await farmctlOn(farmd.config, "ca", "init");
      expect([init.exitCode, init.stderr]).toEqual([
        0,
        expect.stringContaining(
          `farmd could not listen: 127.0.0.1:${port} ([api] listen) is in use`,
        ),
      ]);
      expect((await farmctlOn(farmd.config, "ops", "--json")).exitCode).toBe(0);
      await farmd.stop();
      const again = await startFarmd(`[api]\nlisten = "127.0.0.1:${port}"\n`, home);
      const result = await again.child;
      expect(result.exitCode).toBe(75);
      expect(again.stderr()).toContain(`127.0.0.1:${port} ([api] listen) is in use`);
      expect(() => readFileSync(again.socket)).toThrow(/ENOENT/);
    } finally {
      taken.close();
      rmSync(home, { recursive: true, force: true });
    }
  });
});
