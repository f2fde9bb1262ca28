// Hostile clients of farmd's TLS listener: oversized and malformed requests get a JSON 4xx, slow
// ones are cut off within the [api] timeouts, connections beyond max_connections are closed; the
// unix socket answers throughout and nothing changes on the host.
import { connect as netConnect, type Socket } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FarmdClient } from "../../src/client/http.js";
import { httpsTransport } from "../../src/client/transport.js";
import type { TlsListener } from "../../src/daemon/tls.js";
import { harness, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";
import type { CertFiles } from "./tls-certs.js";
import { issueFiles, serveTls, tlsCall, until } from "./tls-server.js";

let h: Harness;
let served: ServedFarmd;
let admin: CertFiles;
let listener: TlsListener;

const port = (l: TlsListener) => Number(new URL(l.url).port);
const json = (text: string) => JSON.parse(text) as Record<string, any>;

beforeAll(async () => {
  h = harness();
  served = await serveFarmd(h);
  listener = await serveTls(
    served,
    "handshake_timeout = 1\nheaders_timeout = 1\nrequest_timeout = 2\nidle_timeout = 1\n",
  );
  admin = await issueFiles(served, h.root, "builder", "admin");
});

afterAll(async () => {
  await listener?.close();
  await served?.close();
  h?.cleanup();
});

/** A TLS connection with the admin's certificate: sends `bytes`, resolves with all it got back
 *  once farmd closes it, and how long after the handshake that was. */
function rawTls(l: TlsListener, bytes: string): Promise<{ text: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({
      host: "127.0.0.1",
      port: port(l),
      ca: served.ca.required().caPem,
      servername: "localhost",
      cert: readFileSync(admin.pemFile),
      key: readFileSync(admin.keyFile),
    });
    let text = "";
    let start = 0;
    s.on("secureConnect", () => ((start = performance.now()), s.write(bytes)));
    s.on("data", (b: Buffer) => (text += b.toString()));
    s.on("error", reject);
    s.on("close", () => resolve({ text, ms: performance.now() - start }));
  });
}

/** The JSON error of a raw answer, and its status line. */
function rawAnswer(text: string): { status: number; error: Record<string, any> } {
  const [head, body] = text.split("\r\n\r\n");
  return { status: Number(head!.split(" ")[1]), error: json(body!).error };
}

/** A plain TCP connection: resolves when farmd closes it, with how long it was open. */
function rawTcp(l: TlsListener): { socket: Socket; closed: Promise<number> } {
  const socket = netConnect(port(l), "127.0.0.1");
  const start = performance.now();
  socket.on("error", () => {}); // a reset is one way of being closed
  return {
    socket,
    closed: new Promise((r) => socket.on("close", () => r(performance.now() - start))),
  };
}

const post = (body: string | Buffer, headers?: Record<string, string>) =>
  tlsCall(listener.url, served, admin, "POST", "/v1/clone", body, headers);

describe("farmd's TLS listener against hostile clients", () => {
  it("refuses an oversized body and malformed JSON with the unix socket's answers", async () => {
    const huge = await post(Buffer.alloc(1024 * 1024, "a"));
    expect(huge.status).toBe(413);
    expect(json(huge.body).error.code).toBe("too_large");
    const broken = await post('{"request": {"source": ');
    expect(broken.status).toBe(400);
    expect(json(broken.body).error).toMatchObject({ code: "bad_json", exitCode: 65 });
    expect(h.runner.mutations()).toEqual([]);
  });

  it("answers a request that is not HTTP and oversized headers with a JSON 400 and 431", async () => {
    const garbage = rawAnswer((await rawTls(listener, "\u0000\u0001 hello?\r\n\r\n")).text);
    expect(garbage.status).toBe(400);
    expect(garbage.error).toMatchObject({ code: "bad_request", exitCode: 64 });
    const big = `GET /v1/vms HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`;
    const headers = rawAnswer((await rawTls(listener, big)).text);
    expect(headers.status).toBe(431);
    expect(headers.error.code).toBe("too_large");
  });

  it("cuts off a client that sends its headers, its body or its handshake too slowly", async () => {
    // headers_timeout = 1 s, request_timeout = 2 s, handshake_timeout = 1 s; checked every 0.5 s.
    const slowHeaders = rawTls(listener, "GET /v1/vms HTTP/1.1\r\nHost: x\r\n");
    const slowBody = rawTls(
      listener,
      "POST /v1/clone HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        'Content-Length: 1000\r\n\r\n{"request":',
    );
    const noHandshake = rawTcp(listener);
    // The unix socket answers while they hang on.
    expect((await served.client.health()).ok).toBe(true);
    const headers = await slowHeaders;
    expect(rawAnswer(headers.text)).toMatchObject({ status: 408, error: { code: "timeout" } });
    expect(headers.ms).toBeGreaterThan(900);
    expect(headers.ms).toBeLessThan(4000);
    const body = await slowBody;
    expect(rawAnswer(body.text)).toMatchObject({ status: 408, error: { code: "timeout" } });
    expect(body.ms).toBeGreaterThan(1900);
    expect(body.ms).toBeLessThan(5000);
    expect(await noHandshake.closed).toBeLessThan(4000);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("closes a kept-alive connection idle for idle_timeout", async () => {
    const kept = await rawTls(listener, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(kept.text).toMatch(/^HTTP\/1.1 200 OK/);
    expect(kept.ms).toBeGreaterThan(900);
    expect(kept.ms).toBeLessThan(4000);
  });

  it("closes connections beyond max_connections while the unix socket keeps answering", async () => {
    const limited = await serveTls(served, "max_connections = 4\nhandshake_timeout = 60\n");
    const held = Array.from({ length: 4 }, () => rawTcp(limited));
    await Promise.all(held.map((c) => new Promise((r) => c.socket.once("connect", r))));
    await until(async () => (await connections(limited)) === 4, "4 connections held");
    const fifth = rawTcp(limited);
    expect(await fifth.closed).toBeLessThan(4000);
    expect(served.logs.join("\n")).toContain("[api] max_connections (4) reached");
    const client = new FarmdClient(
      httpsTransport({
        url: new URL(limited.url.replace("127.0.0.1", "localhost")),
        cert: readFileSync(admin.pemFile, "utf8"),
        key: readFileSync(admin.keyFile, "utf8"),
        ca: served.ca.required().caPem,
        certFile: admin.pemFile,
      }),
    );
    await expect(client.health()).rejects.toMatchObject({ code: "busy", exitCode: 75 });
    expect((await served.client.health()).ok).toBe(true);
    for (const c of held) c.socket.destroy();
    await until(async () => (await connections(limited)) === 0, "the held connections closed");
    expect((await client.health()).ok).toBe(true);
    await limited.close();
  });

  it("keeps an event stream open past request_timeout, to its operation's end", async () => {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    h.runner.ddGate = () => opened; // the copy waits until the slow client below is cut off
    const clone = JSON.stringify({ request: { source: "gallifrey", name: "slow-copy" } });
    const { opId } = json((await post(clone)).body);
    const stream = rawTls(
      listener,
      `GET /v1/operations/${opId}/events?follow=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    let streamClosed = false;
    void stream.then(() => (streamClosed = true));
    const slowBody = await rawTls(
      listener,
      "POST /v1/clone HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{",
    );
    expect(slowBody.ms).toBeGreaterThan(1900); // request_timeout = 2 s has passed for both
    expect(h.runner.ddActive).toBe(1);
    expect(streamClosed).toBe(false);
    open();
    const events = (await stream).text;
    expect(events).toMatch(new RegExp(`"type":"end","opId":"${opId}","state":"succeeded"`));
  });
});

function connections(l: TlsListener): Promise<number> {
  return new Promise((resolve, reject) =>
    l.server.getConnections((err, n) => (err ? reject(err) : resolve(n))),
  );
}
