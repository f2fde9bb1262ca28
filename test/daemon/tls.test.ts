// farmd's TLS listener over loopback, real TLS and real certificates (openssl): the same API as
// the unix socket for a certificate of farmd's CA, 403 for a role too low, 401 for an unknown or
// revoked certificate, and the handshake refused to another CA's, an expired one, or none at all.
import { execa } from "execa";
import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FarmdClient } from "../../src/client/http.js";
import { remoteCredentials, remoteSettings } from "../../src/client/remote.js";
import { httpsTransport } from "../../src/client/transport.js";
import type { TlsListener } from "../../src/daemon/tls.js";
import { harness, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";
import { TestCa, type CertFiles } from "./tls-certs.js";
import { issueFiles, serveTls, tlsCall as call, until } from "./tls-server.js";

let h: Harness;
let served: ServedFarmd;
let listener: TlsListener;
const certs: Record<string, CertFiles> = {};
let stranger: CertFiles;

const json = (text: string) => JSON.parse(text) as Record<string, any>;
/** curl's options for the admin's certificate and farmd's CA. */
const curlTls = () => {
  const c = certs.builder!;
  return [
    "-sS",
    "--cert",
    c.pemFile,
    "--key",
    c.keyFile,
    "--cacert",
    served.ca.required().certFile,
  ];
};
const CLONE = JSON.stringify({ request: { source: "gallifrey", name: "gallifrey-dev" } });

beforeAll(async () => {
  h = harness();
  served = await serveFarmd(h);
  listener = await serveTls(served);
  const dir = join(h.root, "certs");
  mkdirSync(dir);
  for (const [name, role] of [
    ["builder", "admin"],
    ["ci-reader", "reader"],
    ["to-revoke", "admin"],
  ] as const)
    certs[name] = await issueFiles(served, dir, name, role);
  // Signed with farmd's CA key, yet not issued by it: one past its end, one it has no record of.
  const signer = TestCa.adopt(join(h.root, "signer"), served.ca.dir);
  certs.expired = await signer.sign("expired", ["20200101000000Z", "20200201000000Z"]);
  certs.unrecorded = await signer.sign("unrecorded");
  const other = await TestCa.create(join(h.root, "other"), "another CA");
  stranger = await other.sign("stranger");
});

afterAll(async () => {
  await listener?.close();
  await served?.close();
  h?.cleanup();
});

describe("farmd's TLS listener", () => {
  it("gives an admin's certificate the unix socket's answers, through farmctl's client too", async () => {
    const local = await served.client.vms();
    const answer = await call(listener.url, served, certs.builder!, "GET", "/v1/vms");
    expect(answer.status).toBe(200);
    expect(json(answer.body)).toEqual({ vms: local });
    const remote = new FarmdClient(
      httpsTransport(
        remoteCredentials(
          remoteSettings(
            { remote: `https://localhost:${new URL(listener.url).port}` },
            {
              FARMCTL_CERT: certs.builder!.pemFile,
              FARMCTL_KEY: certs.builder!.keyFile,
              XDG_CONFIG_HOME: join(h.root, "no-config"),
            },
          )!,
        ),
      ),
    );
    expect(await remote.vms()).toEqual(local);
    expect((await remote.health()).ok).toBe(true);
    const server = new X509Certificate(readFileSync(join(served.ca.dir, "server.pem")));
    expect(server.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1");
    expect(server.checkIssued(served.ca.required().cert)).toBe(true);
  });

  it("speaks TLS 1.3 only", async () => {
    const err = await new Promise<Error>((resolve) => {
      const s = tlsConnect({
        host: "127.0.0.1",
        port: Number(new URL(listener.url).port),
        ca: served.ca.required().caPem,
        servername: "localhost",
        cert: readFileSync(certs.builder!.pemFile),
        key: readFileSync(certs.builder!.keyFile),
        maxVersion: "TLSv1.2", // with a valid certificate: only the version is wrong
      });
      s.on("secureConnect", () => resolve(new Error("connected")));
      s.on("error", resolve);
    });
    expect(err.message).toMatch(/alert protocol version/);
  });

  it("refuses a reader's clone with 403 naming the role needed, and changes nothing", async () => {
    const list = await call(listener.url, served, certs["ci-reader"]!, "GET", "/v1/vms");
    expect(list.status).toBe(200);
    const clone = await call(listener.url, served, certs["ci-reader"]!, "POST", "/v1/clone", CLONE);
    expect(clone.status).toBe(403);
    expect(json(clone.body).error).toMatchObject({
      code: "forbidden",
      exitCode: 77,
      message: expect.stringMatching(/needs role operator; cert:ci-reader has role reader/),
    });
    expect(h.runner.mutations()).toEqual([]);
  });

  it("lets an operator clone its sources and destroy its own VM, not another's; an admin any", async () => {
    const dir = join(h.root, "certs");
    const one = await issueFiles(served, dir, "op-one", "operator", { sources: ["gallifrey"] });
    const two = await issueFiles(served, dir, "op-two", "operator", { sources: ["gallifrey"] });
    const post = (who: CertFiles, path: string, request: object) =>
      call(listener.url, served, who, "POST", path, JSON.stringify({ request }));
    /** Starts an operation and follows its events to the end, over TLS. */
    const run = async (who: CertFiles, path: string, request: object) => {
      const started = await post(who, path, request);
      expect(started.status, started.body).toBe(202);
      const { opId } = json(started.body);
      const events = await call(
        listener.url,
        served,
        who,
        "GET",
        `/v1/operations/${opId}/events?follow=1`,
      );
      return json(events.body.trim().split("\n").at(-1)!);
    };
    const refusal = async (who: CertFiles, path: string, request: object) => {
      const r = await post(who, path, request);
      expect(r.status, r.body).toBe(403);
      return json(r.body).error.message as string;
    };

    expect(await run(one, "/v1/clone", { source: "gallifrey", name: "one-a" })).toMatchObject({
      state: "succeeded",
    });
    expect(await refusal(one, "/v1/clone", { source: "tardis", name: "one-b" })).toContain(
      "cert:op-one may clone only from gallifrey, not from 'tardis'",
    );
    expect(await refusal(two, "/v1/destroy", { name: "one-a" })).toContain(
      "VM 'one-a' belongs to cert:op-one",
    );
    expect(await refusal(one, "/v1/destroy", { name: "gallifrey" })).toContain(
      "(not made by farmctl) needs role admin",
    );
    expect(await run(one, "/v1/destroy", { name: "one-a" })).toMatchObject({ state: "succeeded" });
    expect(await run(one, "/v1/clone", { source: "gallifrey", name: "one-c" })).toMatchObject({
      state: "succeeded",
    });
    expect(await run(certs.builder!, "/v1/destroy", { name: "one-c" })).toMatchObject({
      state: "succeeded",
    });
    expect((await served.client.vms()).map((v) => v.name)).toEqual(["gallifrey"]);
  });

  it("answers 401 to a certificate of its CA that it has no record of, or that was revoked", async () => {
    const changes = h.runner.mutations().length;
    const unknown = await call(listener.url, served, certs.unrecorded!, "GET", "/v1/vms");
    expect(unknown.status).toBe(401);
    expect(json(unknown.body).error).toMatchObject({ code: "unauthenticated", exitCode: 77 });
    const before = await call(listener.url, served, certs["to-revoke"]!, "GET", "/v1/vms");
    expect(before.status).toBe(200);
    served.ca.revoke("to-revoke");
    const after = await call(listener.url, served, certs["to-revoke"]!, "POST", "/v1/clone", CLONE);
    expect(after.status).toBe(401);
    expect(json(after.body).error.message).toMatch(/'to-revoke' \(serial \w+\) is revoked/);
    expect(h.runner.mutations()).toHaveLength(changes);
    // The refused attempt to change something is in the audit log, with no identity granted.
    const audit = readFileSync(join(h.root, "state", "audit.log"), "utf8")
      .trimEnd()
      .split("\n");
    expect(JSON.parse(audit.at(-1)!)).toMatchObject({
      owner: "unverified",
      via: "tls",
      route: "/v1/clone",
      status: 401,
      code: "unauthenticated",
    });
  });

  it("refuses at the handshake another CA's certificate, an expired one and none", async () => {
    const cases: [CertFiles | null, string][] = [
      [stranger, "certificate SELF_SIGNED_CERT_IN_CHAIN"],
      [certs.expired!, "certificate CERT_HAS_EXPIRED"],
      [null, "peer did not return a certificate"],
    ];
    for (const [client, why] of cases) {
      const refused = await call(listener.url, served, client, "GET", "/v1/vms").then(
        (a) => `answered ${a.status}`,
        (err: NodeJS.ErrnoException) => err.code ?? err.message,
      );
      // TLS 1.3: the client's certificate is checked after the client's side of the handshake.
      expect(refused, why).toMatch(/^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET)$/);
      const line = `warning: TLS: refused a client from 127.0.0.1: ${why}`;
      await until(() => served.logs.includes(line), `farmd logs '${line}'`);
    }
    expect((await served.client.health()).ok).toBe(true);
  });

  it("is plain HTTPS: curl with the certificate gets the unix socket's JSON", async () => {
    const curl = (...args: string[]) => execa("curl", [...curlTls(), ...args], { reject: false });
    const got = await curl(`${listener.url}/v1/vms`);
    expect(got.exitCode, got.stderr).toBe(0);
    expect(json(got.stdout)).toEqual({ vms: await served.client.vms() });
    const op = await curl("-w", "\\n%{http_code}", `${listener.url}/v1/operations/nope`);
    expect(op.stdout.split("\n").at(-1)).toBe("404");
    expect(json(op.stdout.split("\n")[0]!).error.code).toBe("not_found");
  });

  it("runs a build system's cycle with curl, as the README shows: spawn, follow, terminate", async () => {
    const api = listener.url;
    const curl = async (...args: string[]) => (await execa("curl", [...curlTls(), ...args])).stdout;
    const post = (path: string, body: unknown) =>
      curl("-H", "content-type: application/json", "-d", JSON.stringify(body), api + path);
    const follow = async (opId: string) =>
      json(
        (await curl("-N", `${api}/v1/operations/${opId}/events?follow=1`))
          .trim()
          .split("\n")
          .at(-1)!,
      );

    const spawn = json(
      await post("/v1/clone", {
        request: { source: "gallifrey", name: "builder-42", lease: "2h" },
      }),
    );
    const end = await follow(spawn.opId);
    expect(end).toMatchObject({ type: "end", state: "succeeded", result: { name: "builder-42" } });
    expect(end.result.ip).toMatch(/^10\.10\.60\.\d+$/);
    expect(json(await curl(`${api}/v1/vms/builder-42`)).vm.name).toBe("builder-42");
    const renewed = json(await post("/v1/vms/builder-42/renew", { lease: "1h" }));
    expect(Date.parse(renewed.expiresAt) - Date.now()).toBeLessThanOrEqual(3600_000);
    expect(Date.parse(renewed.previousExpiresAt) - Date.parse(renewed.expiresAt)).toBeGreaterThan(
      3000_000,
    );
    const terminate = json(await post("/v1/destroy", { request: { name: "builder-42" } }));
    expect(await follow(terminate.opId)).toMatchObject({ type: "end", state: "succeeded" });
    expect((await served.client.vms()).map((v) => v.name)).not.toContain("builder-42");
  });
});
