// Hostile bodies to the farm routes: each is refused with its 4xx, a stable code and the field,
// nothing is journaled or changed on the host, and farmd keeps serving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { harness, type Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";
import { call, spec } from "./farm-helpers.js";

let h: Harness;
let served: ServedFarmd;
beforeAll(async () => {
  h = harness();
  served = await serveFarmd(h);
});
afterAll(async () => {
  await served.close();
  h.cleanup();
});

const input = spec("rel", { a: {} });
const upBody = (request: Record<string, unknown>) => ({
  request: { ...input, yes: false, ...request },
});
const huge = {
  spec: { name: "rel", pad: "x".repeat(300 * 1024) },
  file: "f",
  vars: {},
  platform: null,
};

const CASES: {
  name: string;
  path: string;
  body: unknown;
  status: number;
  code: string;
  field?: string;
  says?: string;
}[] = [
  {
    name: "an unknown field in the up request",
    path: "/v1/farms/up",
    body: upBody({ force: true }),
    status: 400,
    code: "bad_input",
    field: "request.force",
  },
  {
    name: "an unknown top-level field",
    path: "/v1/farms/up",
    body: { ...upBody({}), now: true },
    status: 400,
    code: "bad_input",
    field: "now",
  },
  {
    name: "yes that is not a boolean",
    path: "/v1/farms/up",
    body: upBody({ yes: "yes" }),
    status: 400,
    code: "bad_input",
    field: "request.yes",
  },
  {
    name: "yes missing",
    path: "/v1/farms/up",
    body: { request: input },
    status: 400,
    code: "bad_input",
    field: "request.yes",
  },
  {
    name: "an unknown on_error",
    path: "/v1/farms/up",
    body: upBody({ onError: "ignore" }),
    status: 400,
    code: "bad_input",
    field: "request.onError",
  },
  {
    name: "a spec that is a string",
    path: "/v1/farms/plan",
    body: { ...input, spec: "name = 'rel'" },
    status: 400,
    code: "bad_input",
    field: "spec",
  },
  {
    name: "a variable that is a number",
    path: "/v1/farms/plan",
    body: { ...input, vars: { release: 3 } },
    status: 400,
    code: "bad_input",
    field: "vars.release",
  },
  {
    name: "a platform with a newline",
    path: "/v1/farms/plan",
    body: { ...input, platform: "p1\nrm" },
    status: 400,
    code: "bad_input",
    field: "platform",
    says: "control character",
  },
  {
    name: "an unknown field in the plan body",
    path: "/v1/farms/plan",
    body: { ...input, yes: true },
    status: 400,
    code: "bad_input",
    field: "yes",
  },
  {
    name: "a saved plan with an action of its own",
    path: "/v1/farms/up",
    body: upBody({
      plan: {
        farm: "rel",
        specHash: "h",
        basis: "b",
        platform: null,
        actions: [{ action: "reboot", member: "a", name: "rel-a" }],
      },
    }),
    status: 400,
    code: "bad_input",
    field: "request.plan.actions.0.action",
  },
  {
    name: "a saved plan with an extra key",
    path: "/v1/farms/up",
    body: upBody({
      plan: { farm: "rel", specHash: "h", basis: "b", platform: null, actions: [], run: "now" },
    }),
    status: 400,
    code: "bad_input",
    field: "request.plan.run",
  },
  {
    name: "a spec whose member key is unknown to the schema",
    path: "/v1/farms/plan",
    body: spec("rel", { a: { sourc: "gallifrey" } }),
    status: 400,
    code: "bad_input",
    says: "sourc",
  },
  {
    name: "a farm name that is not a name",
    path: "/v1/farms/down",
    body: { request: { name: "Rel_3", platform: null, force: false, yes: true } },
    status: 400,
    code: "bad_input",
    field: "request.name",
  },
  {
    name: "down without force",
    path: "/v1/farms/down",
    body: { request: { name: "rel", platform: null, yes: true } },
    status: 400,
    code: "bad_input",
    field: "request.force",
  },
  { name: "a huge spec", path: "/v1/farms/plan", body: huge, status: 413, code: "too_large" },
  {
    name: "a huge spec to up",
    path: "/v1/farms/up",
    body: { request: { ...huge, yes: true } },
    status: 413,
    code: "too_large",
  },
];

describe("hostile farm requests", () => {
  for (const c of CASES)
    it(`refuses ${c.name}`, async () => {
      const r = await call(served.socket, "POST", c.path, c.body);
      expect(r.status).toBe(c.status);
      expect(r.body.error?.code).toBe(c.code);
      if (c.field) expect(r.body.error?.details?.field).toBe(c.field);
      if (c.says) expect(r.body.error?.message).toContain(c.says);
      expect(r.body.error?.hint).toBeTruthy();
    });

  it("answers GET /v1/farms/<unknown> with 404 and POST /v1/farms with 405", async () => {
    expect((await call(served.socket, "GET", "/v1/farms/nosuch")).body.error).toMatchObject({
      code: "not_found",
    });
    expect((await call(served.socket, "POST", "/v1/farms", {})).status).toBe(405);
  });

  it("journaled nothing, changed nothing, and still serves", async () => {
    expect(h.journal.list()).toEqual([]);
    expect(h.runner.mutations()).toEqual([]);
    expect((await call(served.socket, "GET", "/v1/health")).body).toMatchObject({ ok: true });
  });
});
