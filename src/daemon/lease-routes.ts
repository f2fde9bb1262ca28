// farmd's lease route: POST /v1/vms/NAME/renew {lease}, the lease of a clone made with --lease.
import { renewBody } from "../api/routes.js";
import { renewLease } from "../ops/inventory/lease.js";
import { checkVmOwner } from "./authz.js";
import { readJsonBody } from "./body.js";
import type { Route, Send } from "./route.js";
import { parseBody } from "./validate.js";

export function leaseRoutes(send: Send): Route[] {
  return [
    {
      method: "POST",
      path: /^\/v1\/vms\/([^/]+)\/renew$/,
      role: "operator",
      handle: async (c) => {
        const { lease } = parseBody(renewBody, await readJsonBody(c.req), "renew request");
        const name = c.params[0]!;
        // An operator renews only the VMs it owns; an admin any.
        checkVmOwner(c.identity, c.ops.inventory.get(name), name, "renew");
        const { config, inventory, journal } = c.ops;
        return send(c.res, 200, renewLease({ config, inventory, journal }, name, lease));
      },
    },
  ];
}
