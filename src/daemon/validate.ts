// A request body checked against its schema; a refusal names the field and says what it must be.
import type { z } from "zod";
import { BadInput } from "../api/errors.js";

type Issue = z.core.$ZodIssue;

const EXPECTED: Record<string, string> = {
  int: "a whole number",
  number: "a number",
  string: "a string",
  boolean: "true or false",
  object: "a JSON object",
};

function kindOf(v: unknown): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

function valueAt(body: unknown, path: PropertyKey[]): unknown {
  let v = body;
  for (const k of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[k];
  return v;
}

/** The field names an object schema at `path` accepts (defaults, optionals and nullables see through). */
function fieldsAt(schema: z.ZodType, path: PropertyKey[]): string[] {
  const unwrap = (s: unknown): unknown => {
    let cur = s as { def?: { innerType?: unknown } } | undefined;
    while (cur?.def?.innerType) cur = cur.def.innerType as typeof cur;
    return cur;
  };
  let s = unwrap(schema) as { shape?: Record<string, unknown> } | undefined;
  for (const k of path) s = unwrap(s?.shape?.[String(k)]) as typeof s;
  return Object.keys(s?.shape ?? {});
}

function refusal(schema: z.ZodType, body: unknown, issue: Issue, what: string): BadInput {
  const at = issue.path.map(String).join(".");
  if (issue.code === "unrecognized_keys") {
    const field = [at, issue.keys[0]].filter(Boolean).join(".");
    return new BadInput(
      `unknown field '${field}' in the ${what}`,
      `remove it; the fields${at ? ` of '${at}'` : ""} are: ${fieldsAt(schema, issue.path).join(", ")}`,
      { field },
    );
  }
  const value = valueAt(body, issue.path);
  if (issue.code === "invalid_type") {
    const expected = EXPECTED[issue.expected] ?? issue.expected;
    return value === undefined
      ? new BadInput(`field '${at}' of the ${what} is missing`, `give it (${expected})`, {
          field: at,
        })
      : new BadInput(
          `field '${at}' of the ${what} must be ${expected}, not ${kindOf(value)}`,
          `send ${expected} for '${at}'`,
          { field: at },
        );
  }
  if (issue.code === "too_small" && value === "")
    return new BadInput(`field '${at}' of the ${what} is empty`, "give a value, or leave it out", {
      field: at,
    });
  if (issue.code === "custom")
    return new BadInput(
      `field '${at}' of the ${what} ${issue.message}`,
      "send it as plain text on one line",
      {
        field: at,
      },
    );
  return new BadInput(`field '${at}' of the ${what} ${issue.message}`, "see farmd(8) for the API", {
    field: at,
  });
}

export function parseBody<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  // An unknown field first: a misspelt one also makes its right name look missing.
  const issues = [...parsed.error.issues].sort(
    (a, b) => Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys"),
  );
  throw refusal(schema, body, issues[0]!, what);
}
