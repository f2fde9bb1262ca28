// Hostile requests straight to farmd's socket: each is refused with a 4xx, a stable code and a
// message naming the problem and the fix; nothing changes on the host and farmd keeps serving.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ErrorJson } from "../../src/api/errors.js";
import { followToEnd } from "../../src/client/http.js";
import { harness, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One raw request: the body is sent whole (or chunked), then the answer is read to its end. */
function call(
  socketPath: string,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = { "content-type": "application/json" },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path, headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on("error", reject);
    });
    req.on("error", reject); // EPIPE or a reset: farmd hung up on the client
    req.end(body);
  });
}

interface Case {
  name: string;
  method?: string;
  path?: string;
  body?: unknown;
  /** The body as sent, when it is not JSON.stringify(body). */
  raw?: string | Buffer;
  headers?: Record<string, string>;
  status: number;
  code: string;
  field?: string;
  /** Words the message must contain. */
  says?: string;
}

const clone = (request: Record<string, unknown>) => ({
  request: { source: "gallifrey", name: "gallifrey-dev", ...request },
});
const POST_CLONE = { method: "POST", path: "/v1/clone" };

const INJECTIONS = [
  "x\ny",
  "x;reboot",
  "x}",
  'x"y',
  "x$(id)",
  "x`id`",
  "x\u0000y",
  "gällifrey",
  "x\u2028y",
  "x y",
  "../../etc/passwd",
];
const STRING_FIELDS = ["source", "name", "group", "memory", "balloon", "ip", "mac", "web"];
const HUGE = Buffer.alloc(1024 * 1024, "a");

const CASES: Case[] = [
  // Routes and methods
  { name: "unknown route", method: "GET", path: "/v1/nope", status: 404, code: "no_route" },
  { name: "unversioned route", method: "GET", path: "/health", status: 404, code: "no_route" },
  {
    name: "DELETE a list",
    method: "DELETE",
    path: "/v1/vms",
    status: 405,
    code: "method_not_allowed",
    says: "GET",
  },
  {
    name: "GET a start",
    method: "GET",
    path: "/v1/clone",
    status: 405,
    code: "method_not_allowed",
    says: "POST",
  },
  {
    name: "POST health",
    method: "POST",
    path: "/v1/health",
    body: {},
    status: 405,
    code: "method_not_allowed",
  },
  {
    name: "PUT cancel",
    method: "PUT",
    path: "/v1/operations/abc/cancel",
    status: 405,
    code: "method_not_allowed",
  },
  // Path parameters
  {
    name: "bad escape in a VM name",
    method: "GET",
    path: "/v1/vms/%ZZ",
    status: 400,
    code: "bad_path",
    says: "percent-encoding",
  },
  {
    name: "bad escape in an op id",
    method: "GET",
    path: "/v1/operations/%ZZ",
    status: 400,
    code: "bad_path",
  },
  {
    name: "bad escape before events",
    method: "GET",
    path: "/v1/operations/%ZZ/events",
    status: 400,
    code: "bad_path",
  },
  {
    name: "bad escape before cancel",
    method: "POST",
    path: "/v1/operations/%E0%A4%A/cancel",
    status: 400,
    code: "bad_path",
  },
  {
    name: "bad escape before balloon",
    method: "POST",
    path: "/v1/vms/%/balloon",
    body: { size: "1G" },
    status: 400,
    code: "bad_path",
  },
  {
    name: "newline in a VM name",
    method: "GET",
    path: "/v1/vms/a%0Ab",
    status: 400,
    code: "bad_path",
    says: "control character",
  },
  {
    name: "NUL in an op id",
    method: "GET",
    path: "/v1/operations/a%00",
    status: 400,
    code: "bad_path",
  },
  { name: "unknown VM", method: "GET", path: "/v1/vms/nosuchvm", status: 404, code: "not_found" },
  {
    name: "unknown operation",
    method: "GET",
    path: "/v1/operations/nosuchop",
    status: 404,
    code: "not_found",
  },
  {
    name: "after not a number",
    method: "GET",
    path: "/v1/operations/x/events?after=abc",
    status: 400,
    code: "bad_input",
    field: "after",
  },
  {
    name: "follow not 0/1",
    method: "GET",
    path: "/v1/operations/x/events?follow=yes",
    status: 400,
    code: "bad_input",
    field: "follow",
  },
  // Bodies: size, type, syntax, shape
  {
    ...POST_CLONE,
    name: "huge body, chunked",
    raw: HUGE,
    status: 413,
    code: "too_large",
    says: "limit",
  },
  {
    ...POST_CLONE,
    name: "huge body, with its length",
    raw: HUGE,
    headers: { "content-type": "application/json", "content-length": String(HUGE.length) },
    status: 413,
    code: "too_large",
  },
  {
    name: "huge body to balloon",
    method: "POST",
    path: "/v1/vms/gallifrey/balloon",
    raw: HUGE,
    status: 413,
    code: "too_large",
  },
  {
    name: "huge body to a wrong method",
    method: "PUT",
    path: "/v1/clone",
    raw: HUGE,
    status: 405,
    code: "method_not_allowed",
  },
  {
    ...POST_CLONE,
    name: "text/plain",
    body: clone({}),
    headers: { "content-type": "text/plain" },
    status: 415,
    code: "unsupported_media_type",
    says: "application/json",
  },
  {
    ...POST_CLONE,
    name: "form body",
    raw: "request=x",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    status: 415,
    code: "unsupported_media_type",
  },
  {
    ...POST_CLONE,
    name: "no Content-Type",
    body: clone({}),
    headers: {},
    status: 415,
    code: "unsupported_media_type",
  },
  {
    ...POST_CLONE,
    name: "truncated JSON",
    raw: '{"request": {"source": "gallifrey"',
    status: 400,
    code: "bad_json",
    says: "not valid JSON",
  },
  { ...POST_CLONE, name: "not JSON", raw: "source=gallifrey", status: 400, code: "bad_json" },
  {
    ...POST_CLONE,
    name: "invalid UTF-8",
    raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
    status: 400,
    code: "bad_json",
  },
  {
    ...POST_CLONE,
    name: "array",
    raw: "[]",
    status: 400,
    code: "bad_json",
    says: "an array, not a JSON object",
  },
  { ...POST_CLONE, name: "string", raw: '"clone"', status: 400, code: "bad_json" },
  { ...POST_CLONE, name: "null", raw: "null", status: 400, code: "bad_json" },
  { ...POST_CLONE, name: "number", raw: "42", status: 400, code: "bad_json" },
  {
    ...POST_CLONE,
    name: "__proto__ at the top",
    raw: '{"__proto__": {"admin": true}, "request": {"source": "gallifrey", "name": "x"}}',
    status: 400,
    code: "bad_input",
    field: "__proto__",
  },
  {
    ...POST_CLONE,
    name: "constructor in the request",
    raw: '{"request": {"source": "gallifrey", "name": "x", "constructor": {"prototype": {}}}}',
    status: 400,
    code: "bad_input",
    field: "request.constructor",
  },
  {
    ...POST_CLONE,
    name: "prototype deep down",
    raw: '{"request": {"source": "gallifrey", "name": "x", "web": {"a": {"prototype": 1}}}}',
    status: 400,
    code: "bad_input",
    field: "request.web.a.prototype",
  },
  {
    name: "__proto__ to audit",
    method: "POST",
    path: "/v1/audit",
    raw: '{"__proto__": {"fix": true}}',
    status: 400,
    code: "bad_input",
    field: "__proto__",
  },
  {
    ...POST_CLONE,
    name: "empty body",
    raw: "",
    status: 400,
    code: "bad_input",
    field: "request",
    says: "missing",
  },
  {
    ...POST_CLONE,
    name: "unknown top-level field",
    body: { ...clone({}), force: true },
    status: 400,
    code: "bad_input",
    field: "force",
    says: "unknown field 'force'",
  },
  {
    // Membership is farmd's to give (farm up): a client claiming one could pass as a farm's member.
    ...POST_CLONE,
    name: "a clone claiming farm membership",
    body: clone({
      farm: {
        farm: "rel-3-2",
        member: "repo",
        specHash: "h",
        spec: { key: "repo", name: "gallifrey-dev", source: "gallifrey", vars: {} },
      },
    }),
    status: 400,
    code: "bad_input",
    field: "request.farm",
    says: "unknown field 'request.farm'",
  },
  {
    ...POST_CLONE,
    name: "misspelt field",
    body: { request: { source: "gallifrey", nmae: "x" } },
    status: 400,
    code: "bad_input",
    field: "request.nmae",
    says: "unknown field 'request.nmae'",
  },
  {
    ...POST_CLONE,
    name: "request is an array",
    body: { request: [] },
    status: 400,
    code: "bad_input",
    field: "request",
    says: "not an array",
  },
  {
    ...POST_CLONE,
    name: "name is a number",
    body: clone({ name: 7 }),
    status: 400,
    code: "bad_input",
    field: "request.name",
    says: "must be a string",
  },
  {
    ...POST_CLONE,
    name: "sshPort is a string",
    body: clone({ sshPort: "22" }),
    status: 400,
    code: "bad_input",
    field: "request.sshPort",
  },
  {
    ...POST_CLONE,
    name: "sshPort with a fraction",
    body: clone({ sshPort: 22.5 }),
    status: 400,
    code: "bad_input",
    field: "request.sshPort",
  },
  {
    ...POST_CLONE,
    name: "sshPort 0",
    body: clone({ sshPort: 0 }),
    status: 400,
    code: "bad_input",
    field: "request.sshPort",
  },
  {
    ...POST_CLONE,
    name: "sshPort too big",
    body: clone({ sshPort: 70000 }),
    status: 400,
    code: "bad_input",
    field: "request.sshPort",
  },
  {
    ...POST_CLONE,
    name: "sshPort negative",
    body: clone({ sshPort: -22 }),
    status: 400,
    code: "bad_input",
    field: "request.sshPort",
  },
  {
    ...POST_CLONE,
    name: "sshPort injection",
    body: clone({ sshPort: "22; reboot" }),
    status: 400,
    code: "bad_input",
    field: "request.sshPort",
  },
  {
    ...POST_CLONE,
    name: "start is a string",
    body: clone({ start: "yes" }),
    status: 400,
    code: "bad_input",
    field: "request.start",
    says: "true or false",
  },
  {
    ...POST_CLONE,
    name: "dryRun is a string",
    body: { ...clone({}), dryRun: "true" },
    status: 400,
    code: "bad_input",
    field: "dryRun",
  },
  {
    ...POST_CLONE,
    name: "web is a number",
    body: clone({ web: 5 }),
    status: 400,
    code: "bad_input",
    field: "request.web",
  },
  {
    ...POST_CLONE,
    name: "web is an object",
    body: clone({ web: { x: 1 } }),
    status: 400,
    code: "bad_input",
    field: "request.web",
  },
  ...STRING_FIELDS.map((f): Case => ({
    ...POST_CLONE,
    name: `empty ${f}`,
    body: clone({ [f]: "" }),
    status: 400,
    code: "bad_input",
    field: `request.${f}`,
    says: "empty",
  })),
  ...STRING_FIELDS.flatMap((f) =>
    INJECTIONS.map((v): Case => ({
      ...POST_CLONE,
      name: `${f} = ${JSON.stringify(v)}`,
      body: clone({ [f]: v }),
      status: 400,
      code: "bad_input",
      field: `request.${f}`,
    })),
  ),
  ...INJECTIONS.map((v): Case => ({
    ...POST_CLONE,
    name: `dry run, name = ${JSON.stringify(v)}`,
    body: { ...clone({ name: v }), dryRun: true },
    status: 400,
    code: "bad_input",
    field: "request.name",
  })),
  // --var: a key is an identifier, a value one line of text; both reach files in the guest.
  ...INJECTIONS.map((k): Case => ({
    ...POST_CLONE,
    name: `vars key ${JSON.stringify(k)}`,
    body: clone({ vars: { [k]: "1" } }),
    status: 400,
    code: "bad_input",
    field: `request.vars.${k}`,
  })),
  ...["x\ny", "x\u0000y", "x\u2028y", "x\u007fy", "a".repeat(1025)].map((v): Case => ({
    ...POST_CLONE,
    name: `vars value ${JSON.stringify(v.slice(0, 20))}`,
    body: { ...clone({ vars: { git_revision: v } }), dryRun: true },
    status: 400,
    code: "bad_input",
    field: "request.vars.git_revision",
  })),
  {
    ...POST_CLONE,
    name: "vars not an object",
    body: clone({ vars: "git_revision=1" }),
    status: 400,
    code: "bad_input",
    field: "request.vars",
  },
  {
    ...POST_CLONE,
    name: "vars __proto__",
    raw: '{"request": {"source": "gallifrey", "name": "x", "vars": {"__proto__": "1"}}}',
    status: 400,
    code: "bad_input",
    field: "request.vars.__proto__",
  },
  {
    ...POST_CLONE,
    name: "customize not a boolean",
    body: clone({ customize: "no" }),
    status: 400,
    code: "bad_input",
    field: "request.customize",
  },
  ...["destroy", "import"].flatMap((op) => [
    ...INJECTIONS.map((v): Case => ({
      name: `${op} name = ${JSON.stringify(v)}`,
      method: "POST",
      path: `/v1/${op}`,
      body: { request: { name: v } },
      status: 400,
      code: "bad_input",
      field: "request.name",
    })),
    {
      name: `${op} with an empty name`,
      method: "POST",
      path: `/v1/${op}`,
      body: { request: { name: "" } },
      status: 400,
      code: "bad_input",
      field: "request.name",
      says: "empty",
    },
    {
      name: `${op} with an unknown field`,
      method: "POST",
      path: `/v1/${op}`,
      body: { request: { name: "gallifrey", all: true } },
      status: 400,
      code: "bad_input",
      field: "request.all",
    },
  ]),
  {
    name: "destroy with force a string",
    method: "POST",
    path: "/v1/destroy",
    body: { request: { name: "gallifrey", force: "yes" } },
    status: 400,
    code: "bad_input",
    field: "request.force",
  },
  {
    name: "balloon without a size",
    method: "POST",
    path: "/v1/vms/gallifrey/balloon",
    body: {},
    status: 400,
    code: "bad_input",
    field: "size",
    says: "missing",
  },
  {
    name: "balloon size a number",
    method: "POST",
    path: "/v1/vms/gallifrey/balloon",
    body: { size: 1024 },
    status: 400,
    code: "bad_input",
    field: "size",
  },
  {
    name: "balloon size with a newline",
    method: "POST",
    path: "/v1/vms/gallifrey/balloon",
    body: { size: "1G\nx" },
    status: 400,
    code: "bad_input",
    field: "size",
  },
  {
    name: "balloon size injection",
    method: "POST",
    path: "/v1/vms/gallifrey/balloon",
    body: { size: "1G;reboot" },
    status: 400,
    code: "bad_input",
    says: "not a size",
  },
  {
    name: "balloon unknown field",
    method: "POST",
    path: "/v1/vms/gallifrey/balloon",
    body: { size: "1G", now: true },
    status: 400,
    code: "bad_input",
    field: "now",
  },
  {
    name: "audit fix a string",
    method: "POST",
    path: "/v1/audit",
    body: { fix: "yes" },
    status: 400,
    code: "bad_input",
    field: "fix",
  },
  {
    name: "audit unknown field",
    method: "POST",
    path: "/v1/audit",
    body: { fix: false, all: 1 },
    status: 400,
    code: "bad_input",
    field: "all",
  },
];

describe("farmd refuses hostile requests", () => {
  let h: Harness;
  let farmd: ServedFarmd;
  let before: Map<string, string>;
  beforeAll(async () => {
    h = harness();
    farmd = await serveFarmd(h);
    before = h.snapshot();
  });
  afterAll(async () => {
    await farmd.close();
    h.cleanup();
  });

  it.each(CASES)("$name → $status $code", async (c) => {
    const raw = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
    const a = await call(farmd.socket, c.method ?? "GET", c.path ?? "/", raw, c.headers);
    expect(a.status).toBe(c.status);
    const { error } = JSON.parse(a.body) as { error: ErrorJson };
    expect(error.code).toBe(c.code);
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.hint?.length).toBeGreaterThan(5); // the fix
    expect(error.exitCode).toBeGreaterThanOrEqual(64);
    expect(error.exitCode).toBeLessThanOrEqual(78);
    if (c.field) expect(error.details?.field).toBe(c.field);
    if (c.says) expect(error.message).toContain(c.says);
    if (c.status === 405) expect(a.headers.allow).toBeTruthy();
    // farmd still answers, changed nothing and started nothing.
    expect((await farmd.client.health()).ok).toBe(true);
    expect(h.snapshot()).toEqual(before);
    expect(h.runner.mutations()).toEqual([]);
    expect(await farmd.client.operations()).toEqual([]);
  });

  it("still plans a good clone after all of them", async () => {
    const a = await call(
      farmd.socket,
      "POST",
      "/v1/clone",
      JSON.stringify({ ...clone({}), dryRun: true }),
    );
    expect(a.status).toBe(200);
    expect(a.body.trim().split("\n").at(-1)).toContain('"state":"planned"');
    expect(CASES.length).toBeGreaterThanOrEqual(150);
  });
});

describe("a refusal at preflight is an answer, not an operation", () => {
  let h: Harness;
  let farmd: ServedFarmd;
  beforeAll(async () => {
    h = harness();
    farmd = await serveFarmd(h);
  });
  afterAll(async () => {
    await farmd.close();
    h.cleanup();
  });

  const REFUSED: Case[] = [
    {
      ...POST_CLONE,
      name: "unknown source",
      body: clone({ source: "nosuchvm" }),
      status: 404,
      code: "not_found",
      says: "nosuchvm",
    },
    {
      ...POST_CLONE,
      name: "name taken by the source",
      body: clone({ name: "gallifrey" }),
      status: 400,
      code: "bad_input",
    },
    {
      ...POST_CLONE,
      name: "web name served already",
      body: clone({ web: "gallifrey.dachary.org" }),
      status: 409,
      code: "already_exists",
      says: "nginx",
    },
    {
      ...POST_CLONE,
      name: "balloon over memory",
      body: clone({ memory: "1G", balloon: "2G" }),
      status: 400,
      code: "bad_input",
    },
    {
      ...POST_CLONE,
      name: "address of the source",
      body: clone({ ip: "10.10.60.5" }),
      status: 409,
      code: "already_exists",
      says: "10.10.60.5",
    },
    {
      ...POST_CLONE,
      name: "MAC of the source",
      body: clone({ mac: "52:54:2b:9e:41:07" }),
      status: 409,
      code: "already_exists",
      says: "52:54:2b:9e:41:07",
    },
    {
      ...POST_CLONE,
      name: "dry run of an unknown source",
      body: { ...clone({ source: "nosuchvm" }), dryRun: true },
      status: 404,
      code: "not_found",
    },
    {
      name: "destroy an unknown VM",
      method: "POST",
      path: "/v1/destroy",
      body: { request: { name: "nosuchvm" } },
      status: 404,
      code: "not_found",
    },
    {
      name: "import an unknown VM",
      method: "POST",
      path: "/v1/import",
      body: { request: { name: "nosuchvm" } },
      status: 404,
      code: "not_found",
    },
  ];

  it.each(REFUSED)("$name → $status $code, no operation", async (c) => {
    const before = h.snapshot();
    const a = await call(farmd.socket, c.method!, c.path!, JSON.stringify(c.body));
    expect(a.status).toBe(c.status);
    const { error } = JSON.parse(a.body) as { error: ErrorJson };
    expect(error.code).toBe(c.code);
    if (c.says) expect(error.message).toContain(c.says);
    expect(await farmd.client.operations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("an admitted clone journals its preflight as step 1 and runs to the end", async () => {
    const seen: string[] = [];
    const opId = await farmd.client.startClone({ source: "gallifrey", name: "gallifrey-dev" });
    await followToEnd(farmd.client.events(opId, true), (e) => seen.push(e.type));
    expect(seen.slice(0, 2)).toEqual(["step-start", "step-done"]);
    const { operation, steps } = await farmd.client.operation(opId);
    expect(operation.state).toBe("succeeded");
    expect(steps[0]).toMatchObject({ seq: 0, name: "preflight", state: "done" });
    expect(steps[0]!.data.facts).toMatchObject({ target: { name: "gallifrey-dev" } });
    expect((await farmd.client.operations()).map((o) => o.id)).toEqual([opId]);
  });
});
