// A farm spec's schema (issue 10): the TOML a release manager writes, checked with the same
// validators as farmd.toml and the clone request, so a spec farmd accepts clones as written.
import { z } from "zod";
import { FarmError } from "../../api/errors.js";
import * as check from "../../config/checks.js";
import { checkVars, MAX_VARS } from "../guest/vars.js";
import { checkLabel, checkWebName } from "../names.js";

/** A refusal of one of the shared checks, with its fix, as a problem of the key being checked. */
export function problemOf(run: () => unknown): string | null {
  try {
    run();
    return null;
  } catch (err) {
    if (!(err instanceof FarmError)) throw err;
    return err.hint ? `${err.message}; ${err.hint}` : err.message;
  }
}

const byCheck =
  <T>(run: (v: T) => unknown) =>
  (v: T, ctx: z.RefinementCtx) => {
    const problem = problemOf(() => run(v));
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  };

const text = (what: string) =>
  z.string({
    error: (i) => (i.input === undefined ? `required: give ${what}` : `must be ${what} (a string)`),
  });

/** A DNS label, as checkLabel takes VM and group names. */
const label = (what: string, example: string) =>
  text(`${what} like "${example}"`).superRefine(byCheck((v: string) => checkLabel(v, what)));

const table = (what: string) => ({ error: `must be a table: ${what}` });

const bool = (meaning: string) => z.boolean({ error: `must be true or false (${meaning})` });

/** Each variable checked as a clone's --var is, its problem under its own key. */
export function varProblems(vars: Record<string, unknown>): { key: string; problem: string }[] {
  const problems = Object.keys(vars).flatMap((key) => {
    const problem = problemOf(() => checkVars({ [key]: vars[key] }));
    return problem ? [{ key, problem }] : [];
  });
  // Past MAX_VARS, checkVars refuses the count before any key.
  const count = Object.keys(vars).length > MAX_VARS ? problemOf(() => checkVars(vars)) : null;
  return count ? [...problems, { key: "", problem: count }] : problems;
}

const vars = z
  .record(
    z.string(),
    z.string({ error: 'must be a string; quote numbers and booleans, like "3.2"' }),
    { error: 'must be a table of strings, like { sysbase = "centos-7" }' },
  )
  .superRefine((v, ctx) => {
    for (const { key, problem } of varProblems(v))
      ctx.addIssue({ code: "custom", path: key ? [key] : [], message: problem });
  });

/** What a platform, [defaults] or a member may set: the options of `farmctl clone`. */
const cloneOptions = {
  source: label("the short name of the VM to clone", "builder-centos7").optional(),
  group: label("a group name", "staging").optional(),
  memory: check.size('"4G"', true).optional(),
  balloon: check.size('"1G"', true).optional(),
  web: z
    .union([z.boolean(), z.string()], {
      error:
        'must be false (no nginx site), true (<name>.<public_domain>) or a server name like "repo.example.org"',
    })
    .superRefine(
      byCheck((w: boolean | string) =>
        typeof w === "string" ? checkWebName(w, 'give web like "repo.example.org"') : w,
      ),
    )
    .optional(),
  start: bool("start the VM after cloning it").optional(),
  customize: bool("set the guest's hostname, keys and files").optional(),
};

export const CLONE_OPTIONS = Object.keys(cloneOptions) as (keyof typeof cloneOptions)[];

export const memberSchema = z
  .object(
    {
      ...cloneOptions,
      platform: label("the platform", "centos-7").optional(),
      name: label("the VM's short name", "rel-3-2-repo").optional(),
      vars: vars.optional(),
      protect: bool("`farm down` refuses it without --force").optional(),
    },
    table("[members.<key>] with clone options, platform, name, vars, protect"),
  )
  .strict();

export const runSchema = z
  .object(
    {
      on_error: z
        .enum(["continue", "stop", "atomic"], { error: 'must be "continue", "stop" or "atomic"' })
        .default("continue"),
      wait: z.enum(["started", "ssh"], { error: 'must be "started" or "ssh"' }).default("started"),
      wait_timeout: check.seconds('"10m"', 6 * 3600).default(600),
    },
    table("[run] with on_error, wait, wait_timeout"),
  )
  .strict();

export const farmSpecSchema = z
  .object({
    name: label("the farm's name", "rel-3-2"),
    required_vars: z
      .array(text("a variable name").superRefine(byCheck((k: string) => checkVars({ [k]: "" }))), {
        error: 'must be a list of variable names, like ["release", "git_rev"]',
      })
      .default([]),
    vars: vars.default({}),
    run: runSchema.prefault({}),
    defaults: z.object(cloneOptions, table("[defaults] with clone options")).strict().default({}),
    platforms: z
      .record(
        z.string(),
        z.object(cloneOptions, table("[platforms.<name>] with clone options")).strict(),
        table("one [platforms.<name>] a platform"),
      )
      .default({}),
    members: z.record(z.string(), memberSchema, {
      error: (i) =>
        i.input === undefined
          ? "required: add at least one [members.<key>] table"
          : "must be a table: one [members.<key>] a member",
    }),
  })
  .strict();

export type FarmSpec = z.infer<typeof farmSpecSchema>;
export type CloneOptions = z.infer<typeof memberSchema>;
