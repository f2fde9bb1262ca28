// The TLS listener's certificate and the check of a client's, over a real TLS 1.3 handshake.
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { connect, createServer, type PeerCertificate, type TLSSocket } from "node:tls";
import { describe, expect, it } from "vitest";
import type { Identity } from "../../src/api/auth.js";
import type { IssuedCert } from "../../src/api/ca.js";
import { FarmError } from "../../src/api/errors.js";
import type { ServerCredentials } from "../../src/daemon/ca/server-cert.js";
import { filesWithModes, refusal, useCa } from "./ca-fixture.js";

const t = useCa();

function thrown(f: () => unknown): FarmError {
  try {
    f();
  } catch (err) {
    if (err instanceof FarmError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

const leaf = (pem: string) => new X509Certificate(pem);

/**
 * A TLS 1.3 server with `server`'s credentials requiring a client certificate of the CA, and a
 * client presenting `client`'s and checking the server's name: the peer certificate farmd sees.
 */
async function handshake(
  server: ServerCredentials,
  client: IssuedCert,
  servername: string,
): Promise<PeerCertificate> {
  const tls = createServer({
    key: server.keyPem,
    cert: server.certPem,
    ca: server.caPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
  });
  const peer = new Promise<PeerCertificate>((resolve) =>
    tls.once("secureConnection", (s: TLSSocket) => {
      resolve(s.getPeerCertificate());
      s.end();
    }),
  );
  await new Promise<void>((r) => tls.listen(0, "127.0.0.1", r));
  const port = (tls.address() as { port: number }).port;
  try {
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername,
      key: client.keyPem,
      cert: client.certPem,
      ca: client.caPem,
      minVersion: "TLSv1.3",
    });
    await new Promise<void>((resolve, reject) =>
      socket.once("secureConnect", resolve).once("error", reject),
    );
    const seen = await peer;
    socket.destroy();
    return seen;
  } finally {
    await new Promise((r) => tls.close(r));
  }
}

describe("the TLS listener's certificate", () => {
  it("is refused (78, `farmctl ca init`) before the CA exists", async () => {
    const err = await refusal(t().ca.serverCredentials(["localhost"]));
    expect([err.exitCode, err.message]).toEqual([
      78,
      `farmd's CA was never initialised (no ${t().stateDir}/ca)`,
    ]);
    expect(err.hint).toContain("farmctl ca init");
  });

  it("refuses a name that is no DNS name nor address (78) and writes nothing", async () => {
    await t().ca.init();
    for (const names of [["host 01"], ["-bad.farm"], [], ["host01/x"]]) {
      const err = await refusal(t().ca.serverCredentials(names));
      expect(err.exitCode).toBe(78);
      expect(err.message).toMatch(/^\[api\] names/);
    }
    expect(existsSync(join(t().stateDir, "ca/server.pem"))).toBe(false);
  });

  it("names the hosts and addresses given, is kept, and is re-issued when they change", async () => {
    await t().ca.init();
    const first = await t().ca.serverCredentials(["host01.farm", "127.0.0.1", "::1"]);
    const cert = leaf(first.certPem);
    expect(cert.subjectAltName).toBe(
      "DNS:host01.farm, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1",
    );
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(cert.checkIssued(leaf(first.caPem))).toBe(true);
    expect(first.certPem.endsWith(first.caPem)).toBe(true);
    expect(filesWithModes(join(t().stateDir, "ca"))).toMatchObject({
      "server.key": "600",
      "server.pem": "644",
    });
    expect(readFileSync(join(t().stateDir, "ca/server.pem"), "utf8")).toBe(first.certPem);

    // The same names in another order and case: the same certificate.
    const same = await t().ca.serverCredentials(["::1", "HOST01.farm", "127.0.0.1"]);
    expect(same).toEqual(first);
    // One name less: a new certificate, a new key.
    const fewer = await t().ca.serverCredentials(["host01.farm", "127.0.0.1"]);
    expect(leaf(fewer.certPem).serialNumber).not.toBe(cert.serialNumber);
    expect(fewer.keyPem).not.toBe(first.keyPem);
    expect(leaf(fewer.certPem).subjectAltName).toBe("DNS:host01.farm, IP Address:127.0.0.1");
    expect(readFileSync(join(t().stateDir, "ca/server.key"), "utf8")).toBe(fewer.keyPem);
    // Client certificates are not the server's: none is recorded.
    expect(t().ca.list().certificates).toEqual([]);
  });

  it("is re-issued once it has less than 30 days left", async () => {
    await t().ca.init();
    const first = await t().ca.serverCredentials(["localhost"]);
    t().clockDays = 330;
    expect(await t().ca.serverCredentials(["localhost"])).toEqual(first);
    t().clockDays = 340;
    const renewed = await t().ca.serverCredentials(["localhost"]);
    expect(leaf(renewed.certPem).serialNumber).not.toBe(leaf(first.certPem).serialNumber);
  });
});

describe("verifyPeer", () => {
  it("gives the identity of a certificate the CA issued, as the TLS handshake presents it", async () => {
    await t().ca.init();
    const server = await t().ca.serverCredentials(["localhost", "127.0.0.1"]);
    const client = await t().ca.issue({
      name: "ci-runner",
      role: "operator",
      sources: ["builder-*"],
      maxVms: 3,
    });
    const peer = await handshake(server, client, "localhost");
    expect(t().ca.verifyPeer(peer)).toEqual<Identity>({
      owner: "cert:ci-runner",
      role: "operator",
      via: "tls",
      sources: ["builder-*"],
      maxVms: 3,
    });
  });

  it("refuses (401, 77) an unknown serial, a fingerprint that does not match, no certificate", async () => {
    await t().ca.init();
    const { certPem } = await t().ca.issue({ name: "ci", role: "admin" });
    const cert = leaf(certPem);
    const unknown = thrown(() =>
      t().ca.verifyPeer({ serialNumber: "4A", fingerprint256: cert.fingerprint256 }),
    );
    expect([unknown.code, unknown.exitCode, unknown.message]).toEqual([
      "unauthenticated",
      77,
      "certificate serial 4a is not one farmd's CA issued",
    ]);
    const forged = thrown(() =>
      t().ca.verifyPeer({ serialNumber: cert.serialNumber, fingerprint256: "AB:CD" }),
    );
    expect(forged.message).toBe(
      `certificate serial ${cert.serialNumber.toLowerCase()} is not one farmd's CA issued`,
    );
    const none = thrown(() => t().ca.verifyPeer({} as PeerCertificate));
    expect([none.code, none.message]).toEqual(["unauthenticated", "no client certificate"]);
  });

  it("refuses a revoked certificate at once, and an expired one", async () => {
    await t().ca.init();
    const { certPem } = await t().ca.issue({ name: "ci", role: "reader" });
    const peer = leaf(certPem);
    expect(t().ca.verifyPeer(peer).owner).toBe("cert:ci");
    t().ca.revoke("ci");
    const revoked = thrown(() => t().ca.verifyPeer(peer));
    expect([revoked.code, revoked.exitCode]).toEqual(["unauthenticated", 77]);
    expect(revoked.message).toBe(
      `certificate 'ci' (serial ${peer.serialNumber.toLowerCase()}) is revoked`,
    );

    const other = leaf((await t().ca.issue({ name: "other", role: "reader" })).certPem);
    t().clockDays = 366;
    expect(thrown(() => t().ca.verifyPeer(other)).message).toMatch(
      /^certificate 'other' .* is expired$/,
    );
  });
});
