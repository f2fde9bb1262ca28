// The CA's routes: admin's only (403 before the body is read), their bodies checked field by field.
import { request } from "node:http";
import { join } from "node:path";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FARMD, type Identity } from "../../src/api/auth.js";
import { ROUTES } from "../../src/api/routes.js";
import { apiServer } from "../../src/daemon/server.js";
import { harness, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";

let h: Harness;
let farmd: ServedFarmd;
let operatorServer: Server;
const operatorSocket = () => join(h.root, "operator.sock");
const operator: Identity = { ...FARMD, owner: "uid:1000", role: "operator", via: "socket" };

beforeAll(async () => {
  h = harness();
  farmd = await serveFarmd(h);
  // The same farmd seen by an operator: every CA route is above its role.
  operatorServer = apiServer(farmd.ops, async () => operator, farmd.ca);
  await new Promise<void>((r) => operatorServer.listen(operatorSocket(), r));
});
afterAll(async () => {
  await new Promise((r) => operatorServer.close(r));
  await farmd.close();
  h.cleanup();
});

function call(socketPath: string, method: string, path: string, body?: unknown) {
  return new Promise<{ status: number; doc: Record<string, any> }>((resolve, reject) => {
    const headers = { "content-type": "application/json" };
    const req = request({ socketPath, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, doc: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe("the CA's routes", () => {
  it("refuse an operator (403, exit 77) naming the role admin, and change nothing", async () => {
    const routes: [string, string, unknown?][] = [
      ["POST", ROUTES.caInit, {}],
      ["POST", ROUTES.caIssue, { name: "me", role: "admin" }],
      ["GET", ROUTES.ca],
      ["POST", ROUTES.caRevoke, { name: "me" }],
    ];
    for (const [method, path, body] of routes) {
      const { status, doc } = await call(operatorSocket(), method, path, body);
      expect(status).toBe(403);
      expect(doc.error).toMatchObject({ code: "forbidden", exitCode: 77 });
      expect(doc.error.message).toBe(
        `${method} ${path} needs role admin; uid:1000 has role operator`,
      );
    }
    expect(farmd.ca.files()).toBeNull();
  });

  it("answer an admin: init 201 then 200, issue 201 with the key, list, revoke", async () => {
    const init = await call(farmd.socket, "POST", ROUTES.caInit);
    expect(init.status).toBe(201);
    expect((await call(farmd.socket, "POST", ROUTES.caInit, {})).status).toBe(200);
    const issue = await call(farmd.socket, "POST", ROUTES.caIssue, { name: "ci", role: "reader" });
    expect(issue.status).toBe(201);
    expect(issue.doc.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(issue.doc.record).toMatchObject({ name: "ci", role: "reader", revokedAt: null });
    const list = await call(farmd.socket, "GET", ROUTES.ca);
    expect(list.doc.ca.fingerprint).toBe(init.doc.fingerprint);
    expect(list.doc.certificates).toEqual([issue.doc.record]);
    const revoke = await call(farmd.socket, "POST", ROUTES.caRevoke, { name: "ci" });
    expect(revoke.doc.revoked[0]).toMatchObject({ serial: issue.doc.record.serial });
  });

  it("refuse a body with an unknown or mistyped field (400), issuing nothing", async () => {
    const cases: [unknown, string, string][] = [
      [{ name: "ci2", role: "reader", admin: true }, "admin", "unknown field 'admin'"],
      [{ name: "ci2", role: "reader", days: "30" }, "days", "must be a number, not a string"],
      [{ name: "ci2\n", role: "reader" }, "name", "contains a control character"],
      [{ role: "reader" }, "name", "field 'name' of the ca issue request is missing"],
    ];
    for (const [body, field, says] of cases) {
      const { status, doc } = await call(farmd.socket, "POST", ROUTES.caIssue, body);
      expect(status).toBe(400);
      expect(doc.error).toMatchObject({ code: "bad_input", details: { field } });
      expect(doc.error.message).toContain(says);
    }
    expect(farmd.ca.list().certificates.map((c) => c.name)).toEqual(["ci"]);
  });
});
