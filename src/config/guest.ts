// [guest]: what the clone's customize step changes inside the new disk (issue 9).
import { z } from "zod";
import { CONTROL_CHAR } from "../api/routes.js";

export const GUEST_OPERATIONS = [
  "hostname",
  "machine-id",
  "ssh-host-keys",
  "net-state",
  "files",
] as const;
export type GuestOperation = (typeof GUEST_OPERATIONS)[number];

/** A path inside the guest: absolute, plain segments of a conservative charset, no `.` or `..`. */
export function guestPathProblem(p: string): string | null {
  if (p.length > 1024) return "is longer than 1024 characters";
  if (CONTROL_CHAR.test(p)) return "contains a control character";
  if (!p.startsWith("/")) return "must be an absolute path";
  const segments = p.slice(1).split("/");
  if (segments.some((s) => s === "." || s === "..")) return "must not contain '.' or '..' segments";
  if (!segments.every((s) => /^[A-Za-z0-9_+@.][A-Za-z0-9._+@-]*$/.test(s)))
    return "must be made of segments of letters, digits and . _ + @ - (none empty, none starting with -)";
  return null;
}

/** "0644": octal permissions, without setuid or setgid (a template never makes a privileged binary). */
export function parseMode(s: string): number | null {
  if (!/^0?[0-7]{3,4}$/.test(s)) return null;
  const mode = parseInt(s, 8);
  return mode & 0o6000 ? null : mode;
}

/** "0:0" (uid:gid, numeric: a name would have to be resolved inside the guest); "root:root" is 0:0. */
export function parseOwner(s: string): { uid: number; gid: number } | null {
  if (s === "root:root" || s === "root") return { uid: 0, gid: 0 };
  const m = /^(\d{1,10}):(\d{1,10})$/.exec(s);
  if (!m) return null;
  const [uid, gid] = [Number(m[1]), Number(m[2])];
  return uid < 2 ** 32 - 1 && gid < 2 ** 32 - 1 ? { uid, gid } : null;
}

/** A template's file name, looked up under guest/ in the override dir, then templates/guest/. */
export const TEMPLATE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.njk$/;

const guestFile = z
  .object({
    template: z
      .string()
      .regex(TEMPLATE_NAME, "must be a template file name like packaging-farm.conf.njk"),
    mode: z
      .string()
      .refine(
        (s) => parseMode(s) !== null,
        "must be octal permissions like 0644 (no setuid/setgid)",
      )
      .default("0644"),
    owner: z
      .string()
      .refine((s) => parseOwner(s) !== null, 'must be numeric uid:gid like "0:0" (or "root:root")')
      .default("0:0"),
  })
  .strict();

export const guestCustomize = z
  .array(
    z.string().refine((s) => (GUEST_OPERATIONS as readonly string[]).includes(s), {
      message: `must be one of ${GUEST_OPERATIONS.join(", ")}`,
    }),
  )
  .refine((a) => new Set(a).size === a.length, "must not name an operation twice")
  .transform((a) => a as GuestOperation[])
  .default([...GUEST_OPERATIONS]);

export const guestFiles = z
  .record(z.string(), guestFile)
  .superRefine((files, ctx) => {
    for (const path of Object.keys(files)) {
      const problem = guestPathProblem(path);
      if (problem) ctx.addIssue({ code: "custom", path: [path], message: `guest path ${problem}` });
    }
  })
  .default({});
