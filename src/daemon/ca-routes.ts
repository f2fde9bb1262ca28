// farmd's CA over the API, admin's only: init, issue (the key goes back to the caller, never kept),
// list, revoke (refused from the next request on).
import type { Role } from "../api/auth.js";
import { caInitBody, caIssueBody, caRevokeBody, ROUTES } from "../api/routes.js";
import { readJsonBody } from "./body.js";
import type { Ca } from "./ca/ca.js";
import { exact, type Route, type Send } from "./route.js";
import { parseBody } from "./validate.js";

export function caRoutes(send: Send, ca: Ca): Route[] {
  return [
    {
      method: "POST",
      path: exact(ROUTES.caInit),
      role: "admin",
      handle: async (c) => {
        parseBody(caInitBody, await readJsonBody(c.req), "ca init request");
        const result = await ca.init();
        send(c.res, result.created ? 201 : 200, result);
      },
    },
    {
      method: "POST",
      path: exact(ROUTES.caIssue),
      role: "admin",
      handle: async (c) => {
        const r = parseBody(caIssueBody, await readJsonBody(c.req), "ca issue request");
        send(c.res, 201, await ca.issue({ ...r, role: r.role as Role }));
      },
    },
    {
      method: "GET",
      path: exact(ROUTES.ca),
      role: "admin",
      handle: (c) => send(c.res, 200, ca.list()),
    },
    {
      method: "POST",
      path: exact(ROUTES.caRevoke),
      role: "admin",
      handle: async (c) => {
        const { name } = parseBody(caRevokeBody, await readJsonBody(c.req), "ca revoke request");
        send(c.res, 200, { revoked: ca.revoke(name) });
      },
    },
  ];
}
