// The one way a family changes its files: validate, put in place, record how to revert, reload.
import { createHash } from "node:crypto";
import type { Candidates, FileChange, HostFiles } from "../files.js";
import type { ServiceControl } from "../reload.js";
import { FarmError } from "../../api/errors.js";

/** How to put files back exactly as they were, if nothing touched them since. */
export interface Revert {
  files: { path: string; before: string | null; afterSha: string | null }[];
}

export const sha = (text: string | null): string | null =>
  text === null ? null : createHash("sha256").update(text).digest("hex");

export interface FamilyIo {
  files: HostFiles;
  service: ServiceControl;
}

export async function commitEdit(
  io: FamilyIo,
  edits: { path: string; before: string | null; after: string | null }[],
  validate: ((c: Candidates) => Promise<void>) | undefined,
  record: (revert: Revert) => void,
): Promise<void> {
  const changes: FileChange[] = edits.map((e) => ({ path: e.path, content: e.after }));
  await io.files.apply(changes, validate);
  // Recorded before the reload: a failed reload is undone from this.
  record({ files: edits.map((e) => ({ path: e.path, before: e.before, afterSha: sha(e.after) })) });
  await io.service.reload();
}

/** A family's last say on bytes being restored over `current` (the zone: a serial above current's). */
export type Restoring = (before: string, current: string) => string;

/**
 * Undo of an add: restores the exact previous bytes when each file is still what the add wrote
 * (as `restoring` adjusts them); otherwise someone edited it since, and only the VM's entry is
 * taken out (by `fallback`).
 */
export async function revertEdit(
  io: FamilyIo,
  revert: Revert | undefined,
  validate: ((c: Candidates) => Promise<void>) | undefined,
  fallback: () => Promise<void>,
  restoring: Restoring = (before) => before,
): Promise<void> {
  if (!revert) return fallback();
  const current = await Promise.all(revert.files.map((f) => io.files.read(f.path)));
  const untouched = revert.files.every((f, i) => sha(current[i] ?? null) === f.afterSha);
  if (!untouched) return fallback();
  if (revert.files.every((f, i) => (current[i] ?? null) === f.before)) return;
  await io.files.apply(
    revert.files.map((f, i) => ({
      path: f.path,
      content: f.before === null || !current[i] ? f.before : restoring(f.before, current[i]!),
    })),
    validate,
  );
  await io.service.reload();
}

/** Undo of adopt: the exact previous bytes, or, if the file changed since, the markers stay (never the lines). */
export function unadoptEdit(
  io: FamilyIo,
  revert: Revert | undefined,
  validate: ((c: Candidates) => Promise<void>) | undefined,
): Promise<void> {
  return revertEdit(io, revert, validate, async () => {
    if (revert)
      throw new FarmError(
        "conflict",
        `${revert.files.map((f) => f.path).join(", ")} changed since farmctl wrapped the VM's lines; its markers are left in place`,
        1,
        "remove the two farmctl marker lines by hand if you want them gone",
      );
  });
}
