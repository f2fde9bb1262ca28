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
} as const;

/** The body of POST /v1/clone; the daemon re-validates every field as the CLI does. */
export const cloneBody = z
  .object({
    dryRun: z.boolean().default(false),
    request: z
      .object({
        source: z.string(),
        name: z.string(),
        group: z.string().optional(),
        memory: z.string().optional(),
        balloon: z.string().optional(),
        ip: z.string().optional(),
        mac: z.string().optional(),
        sshPort: z.number().int().optional(),
        web: z.string().nullable().optional(),
        start: z.boolean().optional(),
      })
      .strict(),
  })
  .strict();

export type CloneBody = z.infer<typeof cloneBody>;

export const destroyBody = z
  .object({
    dryRun: z.boolean().default(false),
    request: z.object({ name: z.string(), force: z.boolean().optional() }).strict(),
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
    state_full: 507,
    too_large: 413,
  };
  return map[code] ?? 500;
}

export const importBody = z
  .object({ dryRun: z.boolean().default(false), request: z.object({ name: z.string() }).strict() })
  .strict();

export const balloonBody = z.object({ size: z.string() }).strict();

export const auditBody = z.object({ fix: z.boolean().default(false) }).strict();

/** `audit --fix` as an operation: no request of its own. */
export const fixBody = z
  .object({ dryRun: z.boolean().default(false), request: z.object({}).strict().default({}) })
  .strict();
