// A variable update's host side: each family whose fragments render differently with the new
// variables (an admin's override using `vars`) gets the VM's block rewritten, remove then add, each
// checked and reloaded as a clone's edit under the family's lock. Its undo data is journaled in the
// farm operation's step, so a failure, or a rollback after a crash or cancel, puts the files back.
import type { VmEntry } from "../../host/confedit/entry.js";
import { asFarmError, FarmError } from "../../api/errors.js";
import type { VmRecord } from "../../state/inventory.js";
import { entryOf } from "../audit/checks.js";
import { changedFamilies, type HostFamily } from "../clone/host-templates.js";
import type { CloneDeps } from "../clone/steps.js";
import type { RevertData } from "../ports.js";
import type { FarmRun } from "./members.js";

/** One family's rewrite as far as it went: the undo data of its remove and of its add. */
interface Rewrite {
  family: HostFamily;
  removed?: RevertData;
  added?: RevertData;
}

/** A member's rewrite in the journal; only a "rewriting" one is left to undo. */
interface Journaled {
  vm: string;
  oldVars: Record<string, string>;
  vars: Record<string, string>;
  state: "rewriting" | "recorded" | "undone";
  done: Rewrite[];
}

const KEY = "rerender:";

/** What a variable update did on the host; `recorded` once the record has the new variables. */
export interface Rerendered {
  families: HostFamily[];
  recorded(): void;
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
  const j: Journaled = { vm: vm.name, oldVars: vm.vars, vars, state: "rewriting", done: [] };
  // Journaled at each commit, before the reload: a rollback after a crash knows what to put back.
  const save = (state: Journaled["state"] = j.state) => {
    j.state = state;
    if (j.done.length) run.record?.({ [KEY + member]: j });
  };
  const undo = async () => {
    const failures = await undoRewrites(deps, before, after, j.done);
    save("undone");
    if (failures.length) throw undoFailed(`${vm.name}'s blocks`, failures);
  };
  try {
    for (const family of families) {
      const rewrite: Rewrite = { family };
      j.done.push(rewrite);
      const edit = deps.families[family];
      await edit.remove(before, (r) => ((rewrite.removed = r), save()));
      await edit.add(after, (r) => ((rewrite.added = r), save()));
    }
  } catch (err) {
    const failures = await undoRewrites(deps, before, after, j.done);
    save("undone");
    if (!failures.length) throw err;
    throw undoFailed(`${vm.name}'s blocks`, failures, asFarmError(err).message);
  }
  return { families, undo, recorded: () => save("recorded") };
}

/**
 * The members step's undo (a cancelled or crashed farm operation): the rewrites that did not reach
 * their record are taken back; one whose record has the new variables stays, as the record says.
 */
export async function undoUnrecorded(
  deps: CloneDeps,
  data: Record<string, unknown>,
  record: (d: Record<string, unknown>) => void,
): Promise<void> {
  const failures: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const j = value as Journaled;
    if (!key.startsWith(KEY) || j.state !== "rewriting") continue;
    const vm = deps.inventory.get(j.vm);
    if (vm && !sameVars(vm.vars, j.vars)) {
      const before = entryOf({ ...vm, vars: j.oldVars }, deps);
      const after = { ...before, vars: j.vars };
      const left = await undoRewrites(deps, before, after, j.done);
      if (left.length) failures.push(`${j.vm}: ${left.join(", ")}`);
    }
    record({ [key]: { ...j, state: "undone" } });
  }
  if (failures.length) throw undoFailed("the members' blocks", failures);
}

const sameVars = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * Last rewrite first: the add taken back, then the old block put back (exact bytes where nobody
 * touched the file since); says what could not be put back.
 */
async function undoRewrites(
  deps: Pick<CloneDeps, "families">,
  before: VmEntry,
  after: VmEntry,
  done: Rewrite[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const r of [...done].reverse()) {
    const edit = deps.families[r.family];
    try {
      if (r.added) await edit.revert(after, r.added);
      if (r.removed) await edit.restore(before, r.removed);
    } catch (err) {
      failures.push(`${r.family}: ${asFarmError(err).message}`);
    }
  }
  return failures;
}

function undoFailed(what: string, failures: string[], cause?: string): FarmError {
  return new FarmError(
    "undo_failed",
    `${cause ? `${cause}; then ` : ""}putting back ${what} as they were failed: ${failures.join("; ")}`,
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
