// Replacing or destroying members asks first: farmd answers 409 confirm_needed without `yes`;
// on a terminal the user is asked and the request sent again with yes, else told to pass --yes.
import type { ConfirmNeeded } from "../api/farm.js";
import { EXIT, FarmError } from "../api/errors.js";
import { confirm } from "./prompt.js";

/** "replace rel-3-2-repo, destroy rel-3-2-old" from the error's details, else its message. */
function what(err: FarmError): string {
  const actions = (err.details as Partial<ConfirmNeeded> | undefined)?.actions;
  if (!Array.isArray(actions) || !actions.length) return err.message;
  return actions
    .map((a) => `${a.action === "replace" ? "replace" : "destroy"} ${a.name} (member ${a.member})`)
    .join(", ");
}

/** The operation's id, or null when the user said no. */
export async function startConfirmed(
  start: (yes: boolean) => Promise<string>,
  yes: boolean,
): Promise<string | null> {
  try {
    return await start(yes);
  } catch (err) {
    if (!(err instanceof FarmError) || err.code !== "confirm_needed") throw err;
    const list = what(err);
    if (!process.stdin.isTTY)
      throw new FarmError(
        "confirm_needed",
        `refusing to ${list} without confirmation`,
        EXIT.dataErr,
        "pass --yes when no one is at a terminal to answer",
        err.details,
      );
    if (!(await confirm(`${list[0]!.toUpperCase()}${list.slice(1)}? [y/N] `))) {
      process.stderr.write("nothing done\n");
      return null;
    }
    return start(true);
  }
}
