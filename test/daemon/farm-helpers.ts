// A farmd over the simulated host01 for the farm tests: raw calls to the farm routes (the wire as
// farm-plan.md has it), specs cloned from gallifrey, and an operation followed to its end.
import { request } from "node:http";
import { afterEach } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import type { FarmRunResult, FarmSpecInput } from "../../src/api/farm.js";
import type { ErrorJson } from "../../src/api/errors.js";
import type { FarmdClient } from "../../src/client/http.js";
import type { OperationsOptions } from "../../src/daemon/operations.js";
import type { Identify } from "../../src/daemon/route.js";
import type { Harness } from "../ops/clone-harness.js";
import { serveFarmd, type ServedFarmd } from "./farmd-server.js";

const teardowns: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const t of teardowns.splice(0)) await t();
});

/** A farmd over `h` for this test; it and the harness are gone after the test, pass or fail. */
export async function farmdFor(
  h: Harness,
  parallelCopies = 2,
  extra: Partial<OperationsOptions> & { identify?: Identify } = {},
): Promise<ServedFarmd> {
  teardowns.push(async () => h.cleanup());
  const served = await serveFarmd(h, parallelCopies, {}, extra);
  teardowns.unshift(() => served.close());
  return served;
}

export interface Answer<T = unknown> {
  status: number;
  body: T & { error?: ErrorJson };
}

/** One JSON request to farmd's socket; the answer's status and parsed body (NDJSON: its lines). */
export function call<T = unknown>(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path,
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => {
          const ndjson = (res.headers["content-type"] ?? "").includes("ndjson");
          const parsed = ndjson
            ? text
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l) as unknown)
            : (JSON.parse(text) as unknown);
          resolve({ status: res.statusCode!, body: parsed as Answer<T>["body"] });
        });
      },
    );
    req.on("error", reject);
    req.end(
      body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    );
  });
}

/** A spec of `members` (key → options) cloned from gallifrey, each with a small memory. */
export function spec(
  name: string,
  members: Record<string, Record<string, unknown>>,
  run: Record<string, unknown> = {},
): FarmSpecInput {
  return {
    spec: {
      name,
      run,
      defaults: { source: "gallifrey", memory: "2G", balloon: "1G" },
      members,
    },
    file: `${name}.toml`,
    vars: {},
    platform: null,
  };
}

export const ABC = { a: {}, b: {}, c: {} };

/** Follows an operation to its end: its events before the end, and the end. */
export async function followOp(
  client: FarmdClient,
  opId: string,
): Promise<{ events: OpEvent[]; end: Extract<OpEvent, { type: "end" }> }> {
  const events: OpEvent[] = [];
  for await (const e of client.events(opId, true)) {
    if (e.type === "end") return { events, end: e };
    events.push(e);
  }
  throw new Error(`the event stream of ${opId} closed before its end`);
}

/** Starts `farm up` and follows it to its end. */
export async function up(
  socket: string,
  client: FarmdClient,
  input: FarmSpecInput,
  more: Record<string, unknown> = {},
) {
  const r = await call<{ opId: string }>(socket, "POST", "/v1/farms/up", {
    request: { ...input, yes: false, ...more },
  });
  if (r.status !== 202) throw new Error(`farm up answered ${r.status}: ${JSON.stringify(r.body)}`);
  const followed = await followOp(client, r.body.opId);
  return { opId: r.body.opId, ...followed, result: followed.end.result as FarmRunResult };
}

/** The members' statuses by key, for assertions that read like the CLI's summary. */
export const statuses = (r: FarmRunResult) =>
  Object.fromEntries(r.members.map((m) => [m.member, m.status]));
