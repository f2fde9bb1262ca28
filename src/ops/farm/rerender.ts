// A variable update's host side: each family whose fragments render differently with the new
// variables (an admin's override using `vars`) gets the VM's block rewritten, remove then add, each
// checked and reloaded as a clone's edit under the family's lock; their undo data is journaled, and
// a failure puts every file this update touched back as it was.
import type { VmEntry } from "../../host/confedit/entry.js";
import { asFarmError, FarmError } from "../../api/errors.js";
import type { VmRecord } from "../../state/inventory.js";
import { entryOf } from "../audit/checks.js";
import { changedFamilies, type HostFamily } from "../clone/host-templates.js";
import type { RevertData } from "../ports.js";
import type { FarmRun } from "./members.js";

/** One family's rewrite as far as it went: the undo data of its remove and of its add. */
interface Rewrite {
  family: HostFamily;
  removed?: RevertData;
  added?: RevertData;
}

/** What a variable update did on the host, and how to put it back. */
export interface Rerendered {
  families: HostFamily[];
  undo(): Promise<void>;
}

/**
 * Rewrites the VM's blocks of the families the new variables change; on a failure, undoes what it
 * wrote and throws. The returned undo is for a later failure of the same update.
 */
export async function rerenderHost(
  run: FarmRun,
  member: string,
  vm: VmRecord,
  vars: Record<string, string>,
): Promise<Rerendered> {
  const { deps } = run;
  const before = entryOf(vm, deps);
  const after: VmEntry = { ...before, vars };
  const families = changedFamilies(deps.templates, before, after);
  const done: Rewrite[] = [];
  // Journaled at each commit, before the reload: an operation cut short shows what to put back.
  const save = () => run.record?.({ [`rerender:${member}`]: { vm: vm.name, done } });
  const undo = async () => {
    const failures = await undoRewrites(run, before, after, done);
    if (failures.length) throw undoFailed(before.name, failures);
  };
  try {
    for (const family of families) {
      const rewrite: Rewrite = { family };
      done.push(rewrite);
      const edit = deps.families[family];
      await edit.remove(before, (r) => ((rewrite.removed = r), save()));
      await edit.add(after, (r) => ((rewrite.added = r), save()));
    }
  } catch (err) {
    const failures = await undoRewrites(run, before, after, done);
    if (!failures.length) throw err;
    throw undoFailed(before.name, failures, asFarmError(err).message);
  }
  return { families, undo };
}

/**
 * Last rewrite first: the add taken back, then the old block put back (exact bytes where nobody
 * touched the file since); says what could not be put back.
 */
async function undoRewrites(
  run: FarmRun,
  before: VmEntry,
  after: VmEntry,
  done: Rewrite[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const r of [...done].reverse()) {
    const edit = run.deps.families[r.family];
    try {
      if (r.added) await edit.revert(after, r.added);
      if (r.removed) await edit.restore(before, r.removed);
    } catch (err) {
      failures.push(`${r.family}: ${asFarmError(err).message}`);
    }
  }
  return failures;
}

function undoFailed(vm: string, failures: string[], cause?: string): FarmError {
  return new FarmError(
    "undo_failed",
    `${cause ? `${cause}; then ` : ""}putting back ${vm}'s blocks as they were failed: ${failures.join("; ")}`,
    1,
    "run `farmctl audit`: `farmctl audit --fix` adds a missing block again",
  );
}

/** The member's outcome note: which families were rewritten, or that none depends on the change. */
export function rerenderNote(families: HostFamily[]): string {
  return families.length
    ? `re-rendered: ${families.join(", ")}`
    : "nothing on the host uses the changed variables";
}
