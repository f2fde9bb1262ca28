// A clone's variables (--var key=value): they reach files inside the guest, so they are checked
// like every other value that does.
import { CONTROL_CHAR, VAR_NAME } from "../../api/routes.js";
import { BadInput, forField } from "../../api/errors.js";

export const MAX_VARS = 64;
export const MAX_VAR_LENGTH = 1024;

export function checkVars(vars: Record<string, unknown>): void {
  const keys = Object.keys(vars);
  if (keys.length > MAX_VARS)
    throw new BadInput(`${keys.length} variables given; at most ${MAX_VARS}`, "give fewer --var", {
      field: "request.vars",
    });
  for (const key of keys) forField(`request.vars.${key}`, () => checkVar(key, vars[key]));
}

function checkVar(key: string, value: unknown): void {
  if (!VAR_NAME.test(key))
    throw new BadInput(
      `variable name '${key.slice(0, 80)}' is not an identifier`,
      "use letters, digits and '_' (not starting with a digit, at most 64, not __proto__), like git_revision",
    );
  if (typeof value !== "string")
    throw new BadInput(`variable ${key} must be a string`, `give it as --var ${key}=VALUE`);
  if (value.length > MAX_VAR_LENGTH)
    throw new BadInput(
      `variable ${key} is ${value.length} characters long; at most ${MAX_VAR_LENGTH}`,
      "give a shorter value",
    );
  if (CONTROL_CHAR.test(value))
    throw new BadInput(
      `variable ${key} contains a control character (newline, NUL, ...)`,
      "give it as plain text on one line",
    );
}
