// While an undo runs, a service that does not reload must not undo the undo: the files are back as
// they were, so the reload is retried once and, if it still fails, reported (the step counts as undone).
import { FarmError } from "../../api/errors.js";
import type { ServiceControl } from "../reload.js";
import { wrapMethods } from "./wrap-methods.js";

/** The code the saga knows: files restored, service not reloaded; undone, with a warning. */
export const RESTORED_NOT_RELOADED = "restored_not_reloaded";

export class RestoredNotReloaded extends FarmError {
  constructor(cause: FarmError, service: string[]) {
    super(
      RESTORED_NOT_RELOADED,
      `the files are restored, but the service did not reload (twice): ${cause.message}`,
      1,
      `fix the service, then reload it by hand (${service.join(" ")})`,
      { cause: cause.toJSON() },
    );
  }
}

/** A ServiceControl that, inside `undo()`, retries a failed reload once and then only notes it. */
export class UndoTolerantService implements ServiceControl {
  private failures: FarmError[] | null = null;

  constructor(private readonly inner: ServiceControl) {}

  describe(): string[] {
    return this.inner.describe();
  }

  async reload(): Promise<void> {
    if (!this.failures) return this.inner.reload();
    try {
      await this.inner.reload();
    } catch {
      try {
        await this.inner.reload();
      } catch (err) {
        if (!(err instanceof FarmError)) throw err;
        this.failures.push(err);
      }
    }
  }

  /** Runs an undo; throws RestoredNotReloaded when it finished but a reload failed twice. */
  async undo<T>(fn: () => Promise<T>): Promise<T> {
    const failures: FarmError[] = [];
    this.failures = failures;
    let out: T;
    try {
      out = await fn();
    } finally {
      this.failures = null;
    }
    if (failures[0]) throw new RestoredNotReloaded(failures[0], this.describe());
    return out;
  }
}

const UNDOS = new Set(["revert", "restore", "unadopt"]);

/** The family whose undos (revert, restore, unadopt) reload through `service` tolerantly. */
export function tolerantUndos<F extends object>(family: F, service: UndoTolerantService): F {
  return wrapMethods(family, UNDOS, (call) => service.undo(call));
}
