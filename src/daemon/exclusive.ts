// One operation per target at a time for the kinds that ask for it (a farm's up and down): a second
// one is refused as busy, naming the operation that holds the target; other targets run at once.
import { Busy } from "../api/errors.js";
import type { Journal } from "../state/journal.js";
import type { Kind } from "./kinds.js";

/** A target held from admission until its operation ended. */
export interface Claim {
  /** The operation exists: refusals name it from now on. */
  held(opId: string): void;
  release(): void;
}

export class ExclusiveTargets {
  /** Target → the operation holding it (null while it is being admitted). */
  private readonly holders = new Map<string, Holder>();

  constructor(private readonly journal: Journal) {}

  claim<Req>(kind: Kind<Req, unknown>, req: Req): Claim | null {
    if (!kind.exclusive) return null;
    const target = kind.target(req);
    const holder = this.holders.get(target) ?? this.unfinished(target);
    if (holder) throw busy(target, holder);
    const mine = { kind: kind.name, opId: null as string | null };
    this.holders.set(target, mine);
    return {
      held: (opId) => void (mine.opId = opId),
      release: () => {
        if (this.holders.get(target) === mine) this.holders.delete(target);
      },
    };
  }

  /** An operation on the target that a stop or crash left unfinished holds it too. */
  private unfinished(target: string): Holder | undefined {
    const op = this.journal.live().find((o) => o.target === target && o.parentId === null);
    return op ? { kind: op.kind, opId: op.id, state: op.state } : undefined;
  }
}

interface Holder {
  kind: string;
  opId: string | null;
  /** Set for an operation of an earlier farmd, left interrupted or being recovered. */
  state?: string;
}

function busy(target: string, holder: Holder): Busy {
  const what = target.replace(/^farm:/, "farm ");
  if (holder.opId === null)
    return new Busy(
      `${what} is busy: another ${holder.kind} of it is being checked`,
      "run the command again once it has started (`farmctl ops` lists it)",
      { target },
    );
  const state = holder.state ?? "running";
  return new Busy(
    `${what} is busy: operation ${holder.opId} (${holder.kind}) is ${state} on it`,
    state === "interrupted"
      ? `cancel it (\`farmctl cancel ${holder.opId}\`), then run the command again`
      : `wait for it (\`farmctl ops ${holder.opId} --follow\`), or cancel it, then run the command again`,
    { target, opId: holder.opId },
  );
}
