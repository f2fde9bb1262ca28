// A rejection or exception nobody handled is a bug: it is logged with its stack and farmd keeps
// serving (dying would leave every running operation to crash recovery).
import { stackOf } from "./event-hub.js";
import type { Log } from "./operations.js";

export function logBugs(log: Log, on: NodeJS.Process = process): void {
  on.on("unhandledRejection", (reason) =>
    log("error", `BUG: unhandled rejection: ${stackOf(reason)}`),
  );
  on.on("uncaughtException", (err) => log("error", `BUG: uncaught exception: ${stackOf(err)}`));
}
