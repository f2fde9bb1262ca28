// farmd's lease route: POST /v1/vms/NAME/renew {lease}, the lease of a clone made with --lease.
import type { Identity } from "../api/auth.js";
import { renewBody } from "../api/routes.js";
import { renewLease } from "../ops/inventory/lease.js";
import { readJsonBody } from "./body.js";
import type { Route, Send } from "./route.js";
import { parseBody } from "./validate.js";

/**
 * Whether `identity` may renew VM `name`, throwing Forbidden when not. The authz hook: an operator
 * renews only the VMs it owns, an admin any (src/daemon/authz.ts). Without it, the route's role
 * (operator) is the only check, as for every route before owners were recorded.
 */
export type AuthorizeRenew = (identity: Identity, name: string) => void;

export function leaseRoutes(send: Send, authorizeRenew: AuthorizeRenew = () => {}): Route[] {
  return [
    {
      method: "POST",
      path: /^\/v1\/vms\/([^/]+)\/renew$/,
      role: "operator",
      handle: async (c) => {
        const { lease } = parseBody(renewBody, await readJsonBody(c.req), "renew request");
        const name = c.params[0]!;
        authorizeRenew(c.identity, name);
        const { config, inventory, journal } = c.ops;
        return send(c.res, 200, renewLease({ config, inventory, journal }, name, lease));
      },
    },
  ];
}
