// Follows an operation's events to its end; Ctrl-C detaches (the operation goes on in farmd).
import type { CloneResult } from "../api/clone.js";
import type { OpEvent } from "../api/events.js";
import { followToEnd, type FarmdClient, type StreamedEvent } from "../client/http.js";
import { ProgressView } from "./progress.js";

export interface Followed<R = CloneResult> {
  result?: R;
  detached: boolean;
  events: OpEvent[];
}

const progressView = () =>
  new ProgressView({ write: (s) => process.stderr.write(s), isTTY: Boolean(process.stderr.isTTY) });

/** What a dry run plans: the steps, their commands and their file diffs. */
const PLAN_EVENTS = new Set<OpEvent["type"]>(["step-start", "command", "file-diff"]);

/** A dry run's plan is its output, on stdout (`> plan.txt` keeps it); diagnostics stay on stderr. */
export function planView(): EventView {
  const plan = new ProgressView({ write: (s) => process.stdout.write(s), isTTY: false });
  const diagnostics = progressView();
  return {
    handle: (e) => {
      if (e.type !== "step-done") (PLAN_EVENTS.has(e.type) ? plan : diagnostics).handle(e);
    },
  };
}

/** Shows an operation's events as they come. */
export interface EventView {
  handle(e: OpEvent): void;
}

/**
 * `stream` opens the event stream; its signal closes it when Ctrl-C detaches. `quiet` (--json)
 * shows nothing; `plan` (--dry-run) shows the plan on stdout; `view` replaces the progress view.
 */
export async function follow<R = CloneResult>(
  opId: string | null,
  stream: (signal: AbortSignal) => AsyncIterable<StreamedEvent>,
  quiet: boolean,
  plan = false,
  view: EventView = plan ? planView() : progressView(),
): Promise<Followed<R>> {
  const events: OpEvent[] = [];
  let detach!: () => void;
  const detached = new Promise<"detached">((resolve) => (detach = () => resolve("detached")));
  const stop = new AbortController();
  const onSigint = () => {
    stop.abort();
    detach();
  };
  if (opId) process.once("SIGINT", onSigint);
  try {
    const following = followToEnd<R>(stream(stop.signal), (e) => {
      events.push(e);
      if (!quiet) view.handle(e);
    });
    following.catch(() => {}); // after a detach, the closed stream's error is expected
    const outcome = await Promise.race([following, detached]);
    if (outcome === "detached") {
      process.stderr.write(
        `\ndetached: operation ${opId} goes on in farmd.\n  follow it: farmctl ops ${opId} --follow\n  stop and undo it: farmctl cancel ${opId}\n`,
      );
      return { detached: true, events };
    }
    return { result: outcome, detached: false, events };
  } finally {
    process.removeListener("SIGINT", onSigint);
  }
}

/** After starting an operation: --detach prints its id; else follow it and print its result. */
export async function reportOperation<R>(
  client: FarmdClient,
  opId: string,
  o: { detach?: boolean; json?: boolean },
  text: (result: R) => string,
): Promise<void> {
  if (o.detach) {
    process.stdout.write(o.json ? JSON.stringify({ ok: true, opId }, null, 2) + "\n" : `${opId}\n`);
    return;
  }
  if (!o.json) process.stderr.write(`operation ${opId} (Ctrl-C detaches; it goes on in farmd)\n`);
  const { result, detached } = await follow<R>(
    opId,
    (signal) => client.events(opId, true, -1, signal),
    Boolean(o.json),
  );
  if (detached) return;
  process.stdout.write(
    o.json ? JSON.stringify({ ok: true, result }, null, 2) + "\n" : text(result!),
  );
}
