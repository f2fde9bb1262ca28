// The serial console reader against a real unix socket server standing in for QEMU's
// `-serial unix:...,server,nowait`: it serves text as it comes and no history.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SerialConsole } from "../../src/host/console.js";

const INSTANCE = "gallifrey-dev.vm.farm";
let dir: string;
let servers: Server[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "farm-console-"));
  servers = [];
});
afterEach(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** A console socket; each client is handed to `onClient`, and `closed` resolves when it hangs up. */
async function serve(onClient: (c: Socket, closed: Promise<void>) => void): Promise<Server> {
  const srv = createServer((c) => {
    c.on("error", () => {}); // the reader hangs up mid-write: a reset is what the test expects
    onClient(c, new Promise((r) => c.on("close", () => r())));
  });
  servers.push(srv);
  await new Promise<void>((r) => srv.listen(join(dir, `${INSTANCE}.serial`), r));
  return srv;
}

const endMarker = (text: string) => (text.includes("END\n") ? text : null);

describe("SerialConsole.readUntil", () => {
  it("reads across chunks until the predicate holds, without carriage returns, then hangs up", async () => {
    let hungUp: Promise<void> | undefined;
    await serve((c, closed) => {
      hungUp = closed;
      c.write("boot\r\nBEGIN\r");
      c.write("\nkey 1\r\nEN");
      c.write("D\r\nmore\r\n");
    });
    const text = await new SerialConsole({ monitorDir: dir }).readUntil(INSTANCE, endMarker, 5000);
    expect(text).toMatch(/^boot\nBEGIN\nkey 1\nEND\n/);
    await hungUp; // the server sees the client go: the console is free for the next one
  });

  it("returns null when the predicate never holds in time, and hangs up", async () => {
    let hungUp: Promise<void> | undefined;
    await serve((c, closed) => {
      hungUp = closed;
      c.write("STATUS ip=none\n");
    });
    const console = new SerialConsole({ monitorDir: dir });
    expect(await console.readUntil(INSTANCE, endMarker, 300)).toBeNull();
    await hungUp;
  });

  it("fails at once when the instance has no console socket, naming what to check", async () => {
    const console = new SerialConsole({ monitorDir: dir });
    await expect(console.readUntil(INSTANCE, endMarker, 60_000)).rejects.toMatchObject({
      code: "unavailable",
      message: `no serial console socket ${join(dir, INSTANCE)}.serial`,
      hint: expect.stringContaining("serial_console"),
    });
  });

  it("connects again when QEMU closes the console, keeping the text seen", async () => {
    let clients = 0;
    await serve((c) => {
      clients++;
      if (clients === 1) c.end("BEGIN\n");
      else c.write("END\n");
    });
    const console = new SerialConsole({ monitorDir: dir, retryMs: 20 });
    expect(await console.readUntil(INSTANCE, endMarker, 10_000)).toBe("BEGIN\nEND\n");
    expect(clients).toBe(2);
  });

  it("rejects with the abort reason and hangs up when aborted", async () => {
    const abort = new AbortController();
    let hungUp: Promise<void> | undefined;
    await serve((c, closed) => {
      hungUp = closed;
      c.write("booting\n", () => abort.abort(new Error("cancelled")));
    });
    const console = new SerialConsole({ monitorDir: dir });
    await expect(console.readUntil(INSTANCE, endMarker, 10_000, abort.signal)).rejects.toThrow(
      "cancelled",
    );
    await hungUp;
  });

  it("keeps only the last maxChars, from a line start", async () => {
    await serve((c) => c.write(`${"x".repeat(50)}\nline two\nEND\n`));
    const console = new SerialConsole({ monitorDir: dir, maxChars: 20 });
    expect(await console.readUntil(INSTANCE, endMarker, 5000)).toBe("line two\nEND\n");
  });

  it("refuses an instance name that could leave the control directory", () => {
    const console = new SerialConsole({ monitorDir: dir });
    expect(() => console.readUntil("../x", endMarker, 100)).toThrow(/not a valid instance name/);
  });
});
