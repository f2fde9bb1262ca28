// A farmd that answers the farm routes as each test scripts them, on a real unix socket: the CLI's
// side of the wire (output, exit codes, files, confirmation) tested apart from the daemon's.
import { execa } from "execa";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import { FARMCTL } from "./farmd-process.js";

export interface Received {
  method: string;
  path: string;
  body: any;
}

/** How a farmctl run ended (execa drops the output's last newline). */
export interface Ran {
  exitCode?: number;
  stdout: string;
  stderr: string;
}

/** What a route answers: a status and a JSON body, or an operation's events as NDJSON. */
export type Answer = { status: number; body: unknown } | { events: OpEvent[] };

export interface Scripted {
  dir: string;
  /** Requests in the order they came. */
  received: Received[];
  /** "METHOD /path" (no query) → its answer, or a function of the request's body. */
  answers: Map<string, Answer | ((body: any) => Answer)>;
  farmctl(args: string[], opts?: { env?: Record<string, string>; input?: string }): Promise<Ran>;
  /** farmctl on a pseudo-terminal (script(1)), `input` typed at it. */
  farmctlOnTty(args: string[], input: string): Promise<Ran>;
}

export function scriptedFarmd(): Scripted {
  const s = { received: [], answers: new Map() } as unknown as Scripted;
  let server: Server;
  beforeAll(async () => {
    s.dir = mkdtempSync(join(tmpdir(), "farm-cli-"));
    const socket = join(s.dir, "farmd.sock");
    const config = join(s.dir, "farmd.toml");
    writeFileSync(config, `state_dir = "${s.dir}/state"\nsocket = "${socket}"\n`);
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (c) => (text += c));
      req.on("end", () => {
        const path = req.url!.split("?")[0]!;
        const body = text ? JSON.parse(text) : undefined;
        s.received.push({ method: req.method!, path, body });
        const scripted = s.answers.get(`${req.method} ${path}`);
        const answer = typeof scripted === "function" ? scripted(body) : scripted;
        if (!answer) {
          res.writeHead(404).end(JSON.stringify({ error: { code: "no_route", message: path } }));
        } else if ("events" in answer) {
          res.writeHead(200, { "content-type": "application/x-ndjson" });
          res.end(answer.events.map((e, seq) => JSON.stringify({ seq, ...e }) + "\n").join(""));
        } else {
          res.writeHead(answer.status, { "content-type": "application/json" });
          res.end(JSON.stringify(answer.body));
        }
      });
    });
    await new Promise<void>((r) => server.listen(socket, r));
    const env = (extra?: Record<string, string>) => ({
      FARMD_CONFIG: config,
      FARM_PLATFORM: "",
      ...extra,
    });
    s.farmctl = (args, opts = {}) =>
      execa("node", [FARMCTL, ...args], {
        reject: false,
        env: env(opts.env),
        input: opts.input ?? "",
        cwd: s.dir,
      });
    s.farmctlOnTty = (args, input) =>
      execa(
        "script",
        ["-qec", ["node", FARMCTL, ...args].map((a) => `'${a}'`).join(" "), "/dev/null"],
        {
          reject: false,
          env: env(),
          input,
          cwd: s.dir,
        },
      );
  });
  beforeEach(() => {
    s.received.length = 0;
    s.answers.clear();
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}
