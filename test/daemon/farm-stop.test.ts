// A farm operation that farmd's stop interrupted: it holds its farm (a new up is busy), it is
// not resumed but cancelled, and its cancel rolls its interrupted member clones back too.
import { describe, expect, it } from "vitest";
import { harness, until } from "../ops/clone-harness.js";
import { serveFarmd } from "./farmd-server.js";
import { call, farmdFor, spec, statuses, up } from "./farm-helpers.js";

describe("a farm operation interrupted by farmd's stop", () => {
  it("holds its farm until cancelled; the cancel rolls its member clones back", async () => {
    const h = harness();
    const first = await farmdFor(h);
    h.runner.ddGate = () => new Promise(() => {}); // copies run until farmd stops
    const input = spec("rel", { a: {}, b: {} });
    const started = await call<{ opId: string }>(first.socket, "POST", "/v1/farms/up", {
      request: { ...input, yes: false },
    });
    const farmOp = started.body.opId;
    await until(() => h.runner.ddActive === 2);
    await first.ops.stop();
    await first.close();
    expect(h.journal.operation(farmOp)!.state).toBe("interrupted");
    expect(h.journal.children(farmOp).map((c) => c.state)).toEqual(["interrupted", "interrupted"]);

    h.runner.ddGate = async () => {};
    const again = await serveFarmd(h);
    try {
      const busy = await call(again.socket, "POST", "/v1/farms/up", {
        request: { ...input, yes: false },
      });
      expect(busy.status).toBe(409);
      expect(busy.body.error!.message).toBe(
        `farm rel is busy: operation ${farmOp} (farm-up) is interrupted on it`,
      );
      const resumed = await call(again.socket, "POST", `/v1/operations/${farmOp}/resume`);
      expect(resumed.body.error).toMatchObject({ code: "not_resumable" });
      await again.client.cancel(farmOp);
      await until(() => h.journal.operation(farmOp)!.state === "rolled-back");
      await until(() => h.journal.children(farmOp).every((c) => c.state === "rolled-back"));
      expect([...h.runner.instances.keys()]).toEqual(["gallifrey.xivo.vm.farm"]);
      expect(h.inventory.members("rel")).toEqual([]);
      const r = await up(again.socket, again.client, input);
      expect(statuses(r.result)).toEqual({ a: "done", b: "done" });
    } finally {
      await again.close();
    }
  });
});
