// Listening TCP ports from /proc/net/tcp{,6} as captured on a real host (see the recordings INDEX).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listeningPorts, parseListening } from "../../src/host/sockets.js";

const recording = (name: string) =>
  readFileSync(new URL(`../recordings/${name}-6.18-listen.txt`, import.meta.url), "utf8");

describe("listening sockets", () => {
  it("takes the LISTEN sockets of each table, not the established connections", () => {
    // 54856 is the client end of the established connection to 8080: not a listener.
    expect(parseListening(recording("proc-net-tcp"))).toEqual([2024, 8080, 22009]);
    expect(parseListening(recording("proc-net-tcp6"))).toEqual([22010]);
  });

  it("reads both tables through the reader it is given; a missing table has no listeners", async () => {
    const asked: string[] = [];
    const ports = await listeningPorts(async (path) => {
      asked.push(path);
      return path === "/proc/net/tcp" ? recording("proc-net-tcp") : null;
    });
    expect(asked).toEqual(["/proc/net/tcp", "/proc/net/tcp6"]);
    expect(ports).toEqual([2024, 8080, 22009]);
  });
});
