// What a scripted farmd answers to a farm operation: its members' outcomes, or a confirmation first.
import type { FarmRunResult, MemberOutcome } from "../../src/api/farm.js";
import { BUILD, runEvents } from "./farm-fixtures.js";
import type { Scripted } from "./scripted-farmd.js";

export const outcome = (m: typeof BUILD, over: Partial<MemberOutcome> = {}): MemberOutcome => ({
  member: m.key,
  name: m.name,
  action: "create",
  status: "done",
  opId: `op-${m.key}`,
  error: null,
  ...over,
});

/** farmd runs the farm as operation `opId`, its members ending as `members`. */
export function runs(
  sim: Scripted,
  route: "up" | "down",
  members: MemberOutcome[],
  opId = "op-farm",
) {
  const result: FarmRunResult = { farm: "rel-3-2", opId, members };
  sim.answers.set(`POST /v1/farms/${route}`, { status: 202, body: { opId } });
  sim.answers.set(`GET /v1/operations/${opId}/events`, { events: runEvents(opId, result) });
}

/** farmd asks first unless `yes`: 409 confirm_needed listing what would be replaced. */
export function asksFirst(sim: Scripted, route: "up" | "down", opId = "op-farm") {
  const ok = { status: 202, body: { opId } };
  sim.answers.set(`POST /v1/farms/${route}`, (body) =>
    body.request.yes
      ? ok
      : {
          status: 409,
          body: {
            error: {
              code: "confirm_needed",
              message: "farm rel-3-2: confirm replacing rel-3-2-repo",
              details: { actions: [{ action: "replace", member: "repo", name: "rel-3-2-repo" }] },
            },
          },
        },
  );
}

export const posts = (sim: Scripted) => sim.received.filter((r) => r.method === "POST");
