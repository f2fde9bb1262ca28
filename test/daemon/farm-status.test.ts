// `farm status` over farmd's API on the simulated host01: each member's drift is measured against
// the spec the farm last applied, so a member a later `up` left unchanged shows none.
import { expect, it } from "vitest";
import type { FarmSpecInput, FarmStatus } from "../../src/api/farm.js";
import { harness } from "../ops/clone-harness.js";
import { call, farmdFor, spec, statuses, up } from "./farm-helpers.js";

type Options = Record<string, unknown>;

/** Member a on platform p1, b on p2, each with `o`'s options added; `platform` as --platform. */
function platformSpec(o: { a?: Options; b?: Options }, platform: string | null = null) {
  const input: FarmSpecInput = {
    ...spec("rel", { a: { platform: "p1", ...o.a }, b: { platform: "p2", ...o.b } }),
    platform,
  };
  input.spec.platforms = { p1: {}, p2: {} };
  return input;
}

it("a member a later up left unchanged shows no drift; one the applied spec changes names the fields", async () => {
  const h = harness();
  const { socket, client } = await farmdFor(h);
  const drift = async () => {
    const status = await call<FarmStatus>(socket, "GET", "/v1/farms/rel");
    return Object.fromEntries(status.body.members.map((m) => [m.member, m.drift]));
  };
  await up(socket, client, platformSpec({}));
  // Only b's memory changes: a is left as it was, under a spec it was not applied from.
  const bigger = { b: { memory: "3G" } };
  const r = await up(socket, client, platformSpec(bigger));
  expect(statuses(r.result)).toEqual({ a: "unchanged", b: "done" });
  expect(await drift()).toEqual({ a: [], b: [] });
  // --platform p2 applies a spec that also changes a (p1): a is not planned, so it drifts.
  const only = await up(socket, client, platformSpec({ ...bigger, a: { memory: "3G" } }, "p2"));
  expect(statuses(only.result)).toEqual({ b: "unchanged" });
  expect(await drift()).toEqual({
    a: ["the spec last applied changes memory (run `farm plan` to see the difference)"],
    b: [],
  });
});
