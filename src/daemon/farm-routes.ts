// farmd's farm routes: plan, up and down (operations, like clone), list and status.
import type { z } from "zod";
import type { FarmRunResult } from "../api/farm.js";
import { FARM_MAX_BODY, farmDownBody, farmPlanBody, farmUpBody, ROUTES } from "../api/routes.js";
import { plannedDown } from "../ops/farm/down.js";
import { resolveFarm } from "../ops/farm/resolve.js";
import { farmStatus, listFarms } from "../ops/farm/status.js";
import { planOf } from "../ops/farm/up.js";
import { asFarmError } from "../api/errors.js";
import type { OpEvent } from "../api/events.js";
import { previewUp } from "./farm-preview.js";
import { readJsonBody } from "./body.js";
import { farmDownKind, farmUpKind, type Kind } from "./kinds.js";
import type { Operations } from "./operations.js";
import { parseBody } from "./validate.js";
import { exact, type Call, type Route, type Send } from "./route.js";
import { authorizeStart } from "./authz.js";

type FarmCall = Call;

/**
 * POST /v1/farms/up and /down: the operation (202 {opId}), or with dryRun its preflight, then
 * `planned` streams what each member would do; the end's result has the run's shape. A dry run
 * changes nothing, so it asks no confirmation; a refusal comes before the stream.
 */
function farmOperation<Req extends { yes: boolean }, Ctx extends { opId: string }>(
  send: Send,
  kind: Kind<Req, Ctx>,
  body: z.ZodType<{ dryRun: boolean; request: unknown }>,
  planned: (ops: Operations, ctx: Ctx, write: (e: OpEvent) => void) => Promise<FarmRunResult>,
) {
  return async (c: FarmCall) => {
    const what = `${kind.name.replace("-", " ")} request`;
    const parsed = parseBody(body, await readJsonBody(c.req, FARM_MAX_BODY), what);
    const req = parsed.request as Req;
    authorizeStart(kind.name, req, c.identity, c.ops);
    // Its members' operations and the farm's record are the farm operation's owner's.
    const identity = c.identity;
    if (!parsed.dryRun)
      return send(c.res, 202, { opId: await c.ops.start(kind, req, { identity }) });
    const ctx = await c.ops.preview(kind, { ...req, yes: true });
    c.res.writeHead(200, { "content-type": "application/x-ndjson" });
    const write = (e: unknown) => {
      if (!c.res.writableEnded && !c.res.destroyed) c.res.write(JSON.stringify(e) + "\n");
    };
    try {
      const result = await planned(c.ops, ctx, write);
      write({ type: "end", opId: null, state: "planned", result });
    } catch (err) {
      write({ type: "end", opId: null, state: "failed", error: asFarmError(err).toJSON() });
    }
    c.res.end();
  };
}

// up and down: an operator's farm is its own (the handler checks the owner, sources and quota).
export function farmRoutes(send: Send): Route[] {
  return [
    {
      method: "POST" as const,
      path: exact(ROUTES.farmPlan),
      role: "reader",
      handle: async (c: FarmCall) => {
        const body = await readJsonBody(c.req, FARM_MAX_BODY);
        const input = parseBody(farmPlanBody, body, "farm plan request");
        send(c.res, 200, await planOf(resolveFarm(input), input.platform, c.ops.farmView()));
      },
    },
    {
      method: "POST" as const,
      path: exact(ROUTES.farmUp),
      role: "operator",
      handle: farmOperation(send, farmUpKind, farmUpBody, previewUp),
    },
    {
      method: "POST" as const,
      path: exact(ROUTES.farmDown),
      role: "operator",
      handle: farmOperation(send, farmDownKind, farmDownBody, async (_ops, ctx) =>
        plannedDown(ctx),
      ),
    },
    {
      method: "GET" as const,
      path: exact(ROUTES.farms),
      role: "reader",
      handle: (c: FarmCall) => send(c.res, 200, listFarms(c.ops.farmView())),
    },
    {
      method: "GET" as const,
      // plan, up and down are POST routes: GET /v1/farms/plan asks for a farm named "plan".
      path: /^\/v1\/farms\/([^/]+)$/,
      role: "reader",
      handle: async (c: FarmCall) =>
        send(c.res, 200, await farmStatus(c.ops.farmView(), c.params[0]!)),
    },
  ];
}
