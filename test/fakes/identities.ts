// Identities as farmd would have verified them (a client certificate's), for the authz tests.
import type { Identity, Role } from "../../src/api/auth.js";

export const who = (owner: string, role: Role, more: Partial<Identity> = {}): Identity => ({
  owner,
  role,
  via: "tls",
  sources: null,
  maxVms: null,
  ...more,
});
