// A farm spec made concrete: options merged (defaults, then platform, then member), variables
// merged (spec, then --var-file/--var, then member) and checked, before anything is planned.
import { BadInput } from "../../api/errors.js";
import type { FarmSpecInput, MemberSpec, ResolvedFarm } from "../../api/farm.js";
import { CONTROL_CHAR } from "../../api/routes.js";
import { closest } from "../../api/suggest.js";
import { describeIssues } from "../../api/toml.js";
import { parseSize as sizeOf } from "../../config/size.js";
import { checkLabel } from "../names.js";
import { canonicalJson, sha256Hex } from "./canonical.js";
import { CLONE_OPTIONS, farmSpecSchema, problemOf, varProblems, type FarmSpec } from "./spec.js";

const SEE = "see farmctl-farm(5) for every key";

export function resolveFarm(input: FarmSpecInput): ResolvedFarm {
  const file =
    typeof input.file === "string" && input.file && !CONTROL_CHAR.test(input.file)
      ? input.file.slice(0, 200)
      : "(farm spec)";
  const given = input.vars;
  if (typeof given !== "object" || given === null || Array.isArray(given))
    throw new BadInput(
      "the variables must be an object of strings",
      "give them with --var KEY=VALUE",
    );
  const reserved = protoKeys(input.spec, []).map(
    (at) => `${at}: '__proto__' is reserved; rename it`,
  );
  if (reserved.length) throw specError(file, reserved, `rename these keys; ${SEE}`);
  const parsed = farmSpecSchema.safeParse(input.spec);
  if (!parsed.success)
    throw specError(
      file,
      describeIssues(parsed.error.issues, farmSpecSchema),
      `fix these keys; ${SEE}`,
    );
  const spec = parsed.data;
  const problems: string[] = [];
  const members = Object.keys(spec.members).map((key) => member(spec, key, given, problems));
  checkStructure(spec, members, input.platform, problems);
  if (problems.length) throw specError(file, problems, `fix these keys; ${SEE}`);
  checkVariables(spec, members, given, file);
  const run = {
    onError: spec.run.on_error,
    wait: spec.run.wait,
    waitTimeoutSec: spec.run.wait_timeout,
  };
  const specHash = sha256Hex(canonicalJson({ members, run }));
  return { name: spec.name, file, run, specHash, members };
}

/** Keys named __proto__ as deep as a spec goes (members.KEY.vars.NAME): zod would drop them
 *  (a variable, a member) without a word. */
function protoKeys(value: unknown, path: string[]): string[] {
  if (value === null || typeof value !== "object" || path.length >= 4) return [];
  return Object.keys(value).flatMap((k) => [
    ...(k === "__proto__" ? [[...path, k].join(".")] : []),
    ...protoKeys((value as Record<string, unknown>)[k], [...path, k]),
  ]);
}

/** One member: [defaults], then its platform, then its own keys; undefined keys left out. */
function member(
  spec: FarmSpec,
  key: string,
  given: Record<string, string>,
  problems: string[],
): MemberSpec {
  const own = spec.members[key]!;
  const platform = own.platform ?? null;
  const fromPlatform =
    platform !== null && Object.hasOwn(spec.platforms, platform) ? spec.platforms[platform]! : {};
  const o: Record<string, unknown> = {};
  for (const layer of [spec.defaults, fromPlatform, own])
    for (const k of CLONE_OPTIONS) if (layer[k] !== undefined) o[k] = layer[k];
  if (o.source === undefined && (platform === null || Object.hasOwn(spec.platforms, platform)))
    problems.push(
      `members.${key}: no source: set source here${platform ? `, in [platforms.${platform}]` : " or give it a platform"} or in [defaults]`,
    );
  const m: MemberSpec = {
    key,
    platform,
    name: own.name ?? `${spec.name}-${key}`,
    source: (o.source as string | undefined) ?? "",
    group: o.group as string | undefined,
    memory: o.memory as string | undefined,
    balloon: o.balloon as string | undefined,
    web: o.web === false ? null : typeof o.web === "string" ? o.web : undefined,
    start: (o.start as boolean | undefined) ?? true,
    customize: o.customize as boolean | undefined,
    protect: own.protect ?? false,
    vars: { ...spec.vars, ...given, ...own.vars },
  };
  for (const k of Object.keys(m) as (keyof MemberSpec)[]) if (m[k] === undefined) delete m[k];
  return m;
}

/** Names, references and sizes that span keys: each problem names the key to fix. */
function checkStructure(
  spec: FarmSpec,
  members: MemberSpec[],
  platform: string | null,
  problems: string[],
): void {
  const platforms = Object.keys(spec.platforms);
  const defined = `defined: ${platforms.join(", ") || "none"}`;
  for (const p of platforms) {
    const problem = problemOf(() => checkLabel(p, "platform"));
    if (problem) problems.push(`platforms.${p}: ${problem}`);
  }
  if (!members.length) problems.push("members: no member; add at least one [members.<key>] table");
  const byName = new Map<string, string>();
  for (const m of members) {
    const at = `members.${m.key}`;
    const keyProblem = problemOf(() => checkLabel(m.key, "member key"));
    if (keyProblem) problems.push(`${at}: ${keyProblem}`);
    else if (m.name === `${spec.name}-${m.key}`) {
      const nameProblem = problemOf(() => checkLabel(m.name, "VM name <farm>-<member>"));
      if (nameProblem) problems.push(`${at}: ${nameProblem}; or set name = "..." in [${at}]`);
    }
    if (m.platform !== null && !Object.hasOwn(spec.platforms, m.platform)) {
      const meant = closest(m.platform, platforms);
      problems.push(
        `${at}.platform: '${m.platform}' is not a platform of this farm${meant ? ` (did you mean ${meant}?)` : ""}; add [platforms.${m.platform}] or use one ${defined}`,
      );
    }
    const twin = byName.get(m.name);
    if (twin !== undefined)
      problems.push(
        `${at}: VM name '${m.name}' is also members.${twin}'s; give one a different name`,
      );
    byName.set(m.name, m.key);
    if (m.memory && m.balloon && sizeOf(m.balloon) > sizeOf(m.memory))
      problems.push(
        `${at}: balloon ${m.balloon} is above memory ${m.memory}; lower balloon or raise memory`,
      );
  }
  if (platform !== null && (typeof platform !== "string" || CONTROL_CHAR.test(platform)))
    problems.push(`--platform: must be a platform's name; ${defined} (empty: all)`);
  else if (platform !== null && !Object.hasOwn(spec.platforms, platform)) {
    const meant = closest(platform, platforms);
    problems.push(
      `--platform '${platform.slice(0, 80)}' is not a platform of this farm${meant ? ` (did you mean ${meant}?)` : ""}; ${defined} (empty: all)`,
    );
  }
}

/** --var/--var-file values are checked like the spec's; required_vars must all have a value. */
function checkVariables(
  spec: FarmSpec,
  members: MemberSpec[],
  given: Record<string, string>,
  file: string,
): void {
  const bad = varProblems(given).map(({ problem }) => `--var or --var-file: ${problem}`);
  if (bad.length)
    throw new BadInput(bad.join("\n"), "fix the value given with --var or in the --var-file", {
      problems: bad,
    });
  const crowded = members.flatMap((m) =>
    varProblems(m.vars)
      .filter((v) => v.key === "")
      .map((v) => `${file}: members.${m.key}: the spec's, given and own vars: ${v.problem}`),
  );
  if (crowded.length)
    throw new BadInput(crowded.join("\n"), "give fewer variables", { problems: crowded });
  const missing = spec.required_vars.flatMap((name) => {
    const lacking = members.filter((m) => !Object.hasOwn(m.vars, name)).map((m) => m.key);
    return lacking.length ? [{ name, lacking }] : [];
  });
  if (!missing.length) return;
  const names = missing.map((m) => m.name);
  const listed = missing.map(({ name, lacking }) =>
    lacking.length === members.length ? name : `${name} (for ${lacking.join(", ")})`,
  );
  throw new BadInput(
    `${file}: missing required variable(s): ${listed.join(", ")}`,
    `give each with --var (${names.map((n) => `--var ${n}=VALUE`).join(" ")}) or in a --var-file ("${names[0]} = VALUE", one a line)`,
    { missing: names },
  );
}

function specError(file: string, problems: string[], hint: string): BadInput {
  return new BadInput(problems.map((p) => `${file}: ${p}`).join("\n"), hint, { file, problems });
}
