// farmd's HTTP API over its unix socket: versioned paths and the shapes of their bodies.
import { z } from "zod";

export const API_VERSION = "v1";

export const ROUTES = {
  health: "/v1/health",
  clone: "/v1/clone",
  destroy: "/v1/destroy",
  import: "/v1/import",
  vms: "/v1/vms",
  vm: (name: string) => `/v1/vms/${encodeURIComponent(name)}`,
  balloon: (name: string) => `/v1/vms/${encodeURIComponent(name)}/balloon`,
  audit: "/v1/audit",
  fix: "/v1/fix",
  operations: "/v1/operations",
  operation: (id: string) => `/v1/operations/${encodeURIComponent(id)}`,
  events: (id: string) => `/v1/operations/${encodeURIComponent(id)}/events`,
  cancel: (id: string) => `/v1/operations/${encodeURIComponent(id)}/cancel`,
  resume: (id: string) => `/v1/operations/${encodeURIComponent(id)}/resume`,
  farms: "/v1/farms",
  farm: (name: string) => `/v1/farms/${encodeURIComponent(name)}`,
  farmPlan: "/v1/farms/plan",
  farmUp: "/v1/farms/up",
  farmDown: "/v1/farms/down",
  // issue 11: farmd's CA, leases, the audit log.
  ca: "/v1/ca",
  caInit: "/v1/ca/init",
  caIssue: "/v1/ca/issue",
  caRevoke: "/v1/ca/revoke",
  renew: (name: string) => `/v1/vms/${encodeURIComponent(name)}/renew`,
  log: "/v1/log",
} as const;

/** An ISO 8601 time with its zone, as the audit log's `since` takes it. */
export const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/;

/** A control character (newline, NUL, ...): never part of a name, an address or a size. */
export const CONTROL_CHAR = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;

/** A variable's name (--var, --var-file, a spec's vars): what templates can write as vars.NAME.
 *  Not __proto__: a parsed object would drop it silently. */
export const VAR_NAME = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A value of a request: never empty, never a control character. */
const text = z
  .string()
  .min(1)
  .refine((v) => !CONTROL_CHAR.test(v), "contains a control character (newline, NUL, ...)");

/** The body of POST /v1/clone; the daemon re-validates every field as the CLI does. */
export const cloneBody = z
  .object({
    dryRun: z.boolean().default(false),
    request: z
      .object({
        source: text,
        name: text,
        group: text.optional(),
        memory: text.optional(),
        balloon: text.optional(),
        ip: text.optional(),
        mac: text.optional(),
        sshPort: z.number().int().optional(),
        web: text.nullable().optional(),
        start: z.boolean().optional(),
        // Keys and values are checked by the daemon (checkVars), as the CLI's are.
        vars: z.record(z.string(), z.string()).optional(),
        customize: z.boolean().optional(),
        // A duration like "2h", checked against [leases] max by the daemon.
        lease: text.optional(),
        // A size per second like "100M", or "0"; parsed by the daemon (checkRequest), as the CLI's is.
        bwlimit: text.optional(),
      })
      .strict(),
  })
  .strict();

export type CloneBody = z.infer<typeof cloneBody>;

export const destroyBody = z
  .object({
    dryRun: z.boolean().default(false),
    request: z.object({ name: text, force: z.boolean().optional() }).strict(),
  })
  .strict();

/** HTTP status for each error code; clients branch on the code in the body, never on this. */
export function httpStatus(code: string): number {
  const map: Record<string, number> = {
    bad_input: 400,
    already_exists: 409,
    not_found: 404,
    busy: 409,
    stopping: 503,
    unavailable: 503,
    not_running: 409,
    not_resumable: 409,
    config_invalid: 500,
    forbidden: 403,
    unauthenticated: 401,
    state_full: 507,
    too_large: 413,
    bad_json: 400,
    bad_path: 400,
    unsupported_media_type: 415,
    no_route: 404,
    method_not_allowed: 405,
    confirm_needed: 409,
  };
  return map[code] ?? 500;
}

export const importBody = z
  .object({ dryRun: z.boolean().default(false), request: z.object({ name: text }).strict() })
  .strict();

export const balloonBody = z.object({ size: text, force: z.boolean().optional() }).strict();

/** POST /v1/vms/NAME/renew: the new lease, a duration like "2h" from now. */
export const renewBody = z.object({ lease: text }).strict();

export const auditBody = z.object({ fix: z.boolean().default(false) }).strict();

/** `audit --fix` as an operation: no request of its own. */
export const fixBody = z
  .object({ dryRun: z.boolean().default(false), request: z.object({}).strict().default({}) })
  .strict();

/** A farm's spec and variables as the client read them; farmd resolves and checks them again. */
const farmInput = {
  // The TOML file parsed to an object: its keys and values are checked by the spec's schema.
  spec: z.record(z.string(), z.unknown()),
  file: text,
  vars: z.record(z.string(), z.string()),
  platform: text.nullable(),
};

/** Farms' bodies hold a whole spec (and a saved plan): larger than a clone's, still bounded. */
export const FARM_MAX_BODY = 256 * 1024;

export const farmPlanBody = z.object(farmInput).strict();

const fieldChange = z.object({ field: text, from: z.unknown(), to: z.unknown() }).strict();

/** A plan saved by `farm plan -o`, sent back with `farm up --plan`: compared, never trusted. */
const savedPlan = z
  .object({
    farm: text,
    specHash: text,
    basis: text,
    platform: text.nullable(),
    actions: z
      .array(
        z
          .object({
            action: z.enum(["create", "replace", "update", "noop", "orphan", "refuse"]),
            member: text,
            name: text,
            reason: z.string().optional(),
            reasons: z.array(fieldChange).optional(),
            changes: z.array(fieldChange).optional(),
          })
          .strict(),
      )
      .max(1000),
  })
  .strict();

export const farmUpBody = z
  .object({
    dryRun: z.boolean().default(false),
    request: z
      .object({
        ...farmInput,
        plan: savedPlan.optional(),
        yes: z.boolean(),
        onError: z.enum(["continue", "stop", "atomic"]).optional(),
        prune: z.boolean().optional(),
      })
      .strict(),
  })
  .strict();

export const farmDownBody = z
  .object({
    dryRun: z.boolean().default(false),
    request: z
      .object({ name: text, platform: text.nullable(), force: z.boolean(), yes: z.boolean() })
      .strict(),
  })
  .strict();

/** POST /v1/ca/issue: the CA checks each value (name, role, days, sources, quota) and names the fix. */
export const caIssueBody = z
  .object({
    name: text,
    role: text,
    days: z.number().optional(),
    sources: z.array(text).nullable().optional(),
    maxVms: z.number().nullable().optional(),
  })
  .strict();

export const caRevokeBody = z.object({ name: text }).strict();

export const caInitBody = z.object({}).strict();
