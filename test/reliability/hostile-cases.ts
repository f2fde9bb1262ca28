// The hostile-input table: requests straight to farmd's socket and farmctl command lines, each of
// which must be refused. Values are what an attacker or a careless script would send.

export type Case =
  | { via: "api"; title: string; method: string; path: string; body?: string | Buffer }
  | { via: "cli"; title: string; args: string[] };

/** Strings that would break out of a config line, a shell, or a parser if they got through. */
export const INJECTIONS: [string, string][] = [
  ["a newline", "hx\nhost evil { }"],
  ["a semicolon", "hx;reboot"],
  ["a closing brace", "hx}"],
  ["a double quote", 'hx"evil'],
  ["a single quote", "hx'evil"],
  ["a command substitution", "$(touch /tmp/hostile)"],
  ["backticks", "`touch /tmp/hostile`"],
  ["a NUL", "hx\u0000evil"],
  ["unicode letters", "gällifrey-dév"],
  ["a right-to-left override", "hx\u202eveil"],
  ["a zero-width space", "hx\u200bevil"],
  ["10 000 characters", "a".repeat(10_000)],
  ["a path traversal", "../../etc/passwd"],
  ["a farmctl end marker", "hx # farmctl end gallifrey.xivo.vm.farm"],
  ["a CR and a tab", "hx\r\tevil"],
];

/** The same without NUL: an argv cannot carry one. */
const ARGV_INJECTIONS = INJECTIONS.filter(([, v]) => !v.includes("\u0000"));

const CLONE_FIELDS = ["source", "name", "group", "memory", "balloon", "ip", "mac", "web"] as const;
const ROUTES_WITH_BODY = [
  "/v1/clone",
  "/v1/destroy",
  "/v1/import",
  "/v1/audit",
  "/v1/vms/gallifrey/balloon",
];

const post = (title: string, path: string, body: unknown): Case => ({
  via: "api",
  title,
  method: "POST",
  path,
  body: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
});

/** A clone request that would be valid, with `over` laid over its request. */
const clone = (over: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  request: { source: "gallifrey", name: "hostile", ...over },
  ...top,
});

function malformedJson(): Case[] {
  const bodies: [string, string | Buffer][] = [
    ["an unterminated object", '{"request": {"name": "x"'],
    ["a trailing brace", '{"request":{"name":"hostile"}}}'],
    ["single quotes", "{'request': {'name': 'hostile'}}"],
    ["bare words", "request=hostile"],
    ["invalid UTF-8", Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
    ["a NUL byte", '{"request":\u0000{}}'],
  ];
  return ROUTES_WITH_BODY.flatMap((path) =>
    bodies.map(([what, body]) => post(`malformed JSON to ${path}: ${what}`, path, body)),
  );
}

function wrongTypes(): Case[] {
  const cases: [string, unknown][] = [
    ["body is an array", [clone({})]],
    ["body is a number", 42],
    ["body is null", null],
    ["body is a string", "clone gallifrey hostile"],
    ["request is a string", { request: "gallifrey hostile" }],
    ["request is null", { request: null }],
    ["dryRun is a string", clone({}, { dryRun: "yes" })],
    ["name is a number", clone({ name: 7 })],
    ["name is an array", clone({ name: ["hostile"] })],
    ["name is an object", clone({ name: { $ne: null } })],
    ["source is null", clone({ source: null })],
    ["memory is a number", clone({ memory: 1024 })],
    ["start is a string", clone({ start: "false" })],
    ["web is a number", clone({ web: 80 })],
    ["sshPort is a string", clone({ sshPort: "22" })],
    ["sshPort is negative", clone({ sshPort: -1 })],
    ["sshPort is 0", clone({ sshPort: 0 })],
    ["sshPort is 65536", clone({ sshPort: 65536 })],
    ["sshPort is a fraction", clone({ sshPort: 22000.5 })],
    ["sshPort is huge", clone({ sshPort: 1e300 })],
    ["no request at all", {}],
    ["no name", { request: { source: "gallifrey" } }],
  ];
  const out = cases.map(([what, body]) =>
    post(`wrong type to /v1/clone: ${what}`, "/v1/clone", body),
  );
  out.push(
    post("wrong type to /v1/destroy: force is a string", "/v1/destroy", {
      request: { name: "hostile", force: "yes" },
    }),
  );
  out.push(
    post("wrong type to /v1/import: name is a number", "/v1/import", { request: { name: 1 } }),
  );
  out.push(post("wrong type to /v1/audit: fix is a string", "/v1/audit", { fix: "true" }));
  out.push(
    post("wrong type to balloon: size is a number", "/v1/vms/gallifrey/balloon", { size: 512 }),
  );
  out.push(
    post("wrong type to balloon: size is null", "/v1/vms/gallifrey/balloon", { size: null }),
  );
  return out;
}

function unknownFields(): Case[] {
  const proto = (json: string) => json; // sent as text: JSON.stringify would drop __proto__
  return [
    post("unknown top-level field to /v1/clone", "/v1/clone", clone({}, { extra: 1 })),
    post("unknown request field to /v1/clone", "/v1/clone", clone({ disk: "/dev/sda" })),
    post("unknown request field to /v1/destroy", "/v1/destroy", {
      request: { name: "hostile", all: true },
    }),
    post("unknown field to /v1/audit", "/v1/audit", { fix: false, everything: true }),
    post("unknown field to balloon", "/v1/vms/gallifrey/balloon", {
      size: "512M",
      force: "always",
    }),
    post(
      "__proto__ at the top of /v1/clone",
      "/v1/clone",
      proto('{"__proto__":{"dryRun":false},"request":{"source":"gallifrey","name":"hostile"}}'),
    ),
    post(
      "__proto__ in a clone request",
      "/v1/clone",
      proto('{"request":{"source":"gallifrey","name":"hostile","__proto__":{"sshPort":22}}}'),
    ),
    post(
      "__proto__ in a destroy request",
      "/v1/destroy",
      proto('{"request":{"name":"hostile","__proto__":{"force":true}}}'),
    ),
    post("__proto__ in an audit request", "/v1/audit", proto('{"__proto__":{"fix":true}}')),
    post(
      "constructor.prototype in a clone request",
      "/v1/clone",
      proto(
        '{"request":{"source":"gallifrey","name":"hostile","constructor":{"prototype":{"x":1}}}}',
      ),
    ),
  ];
}

function hugeBodies(): Case[] {
  const sizes: [string, number][] = [
    ["64 KiB + 1", 64 * 1024 + 1],
    ["8 MiB", 8 * 2 ** 20],
  ];
  const out = ROUTES_WITH_BODY.flatMap((path) =>
    sizes.map(([what, n]) =>
      post(`huge body to ${path}: ${what}`, path, `{"pad":"${"x".repeat(n)}"}`),
    ),
  );
  out.push(
    post("a 60 KiB name, within the body limit", "/v1/clone", clone({ name: "a".repeat(60_000) })),
  );
  out.push(post("10 000 nested arrays", "/v1/clone", "[".repeat(10_000) + "]".repeat(10_000)));
  return out;
}

function injections(): Case[] {
  const out: Case[] = [];
  for (const field of CLONE_FIELDS)
    for (const [what, v] of INJECTIONS)
      out.push(post(`clone ${field} with ${what}`, "/v1/clone", clone({ [field]: v })));
  for (const [what, v] of INJECTIONS) {
    out.push(post(`destroy name with ${what}`, "/v1/destroy", { request: { name: v } }));
    out.push(post(`import name with ${what}`, "/v1/import", { request: { name: v } }));
    out.push(post(`balloon size with ${what}`, "/v1/vms/gallifrey/balloon", { size: v }));
    const vm = encodeURIComponent(v);
    out.push(
      post(`balloon VM name in the path with ${what}`, `/v1/vms/${vm}/balloon`, { size: "512M" }),
    );
  }
  return out;
}

function badPaths(): Case[] {
  const get = (title: string, path: string, method = "GET"): Case => ({
    via: "api",
    title,
    method,
    path,
  });
  return [
    get("a lone % in a VM path", "/v1/vms/%"),
    get("%zz in a VM path", "/v1/vms/%zz"),
    get("a truncated UTF-8 escape in a VM path", "/v1/vms/%E0%A4%A"),
    get("an escaped NUL in a VM path", "/v1/vms/gallifrey%00"),
    get("an escaped slash traversal in a VM path", "/v1/vms/..%2F..%2Fetc%2Fpasswd"),
    get("a lone % in an operation path", "/v1/operations/%"),
    get("an overlong UTF-8 escape in an operation path", "/v1/operations/%C0%AF"),
    get("bad escape in a cancel path", "/v1/operations/%ff%/cancel", "POST"),
    get("bad escape in a resume path", "/v1/operations/%/resume", "POST"),
    get("bad escape in an events path", "/v1/operations/%G1/events"),
    { ...post("bad escape in a balloon path", "/v1/vms/%/balloon", { size: "512M" }) },
    get("an unknown version", "/v2/health"),
    get("GET on a POST route", "/v1/clone"),
    get("PUT on the clone route", "/v1/clone", "PUT"),
    get("DELETE on a VM", "/v1/vms/gallifrey", "DELETE"),
    get("POST on health", "/v1/health", "POST"),
    get("an absent operation", "/v1/operations/00000000-0000-0000-0000-000000000000"),
  ];
}

/** Values that collide with what the host itself uses: its sites, ports and addresses. */
function collisionsApi(): Case[] {
  const c = (title: string, over: Record<string, unknown>) =>
    post(`collision through the API: ${title}`, "/v1/clone", clone(over));
  return [
    c("web name gallifrey.dachary.org (another site's)", { web: "gallifrey.dachary.org" }),
    c("web name default", { web: "default" }),
    c("SSH port 22 (host's sshd)", { sshPort: 22 }),
    c("SSH port 80 (nginx, HTTP(ACCEPT))", { sshPort: 80 }),
    c("SSH port 53 (named)", { sshPort: 53 }),
    c("SSH port 22005 (gallifrey's DNAT)", { sshPort: 22005 }),
    c("address 10.10.60.1 (the router)", { ip: "10.10.60.1" }),
    c("address 10.10.60.2 (the cluster IP)", { ip: "10.10.60.2" }),
    c("address 10.10.60.5 (shorewall param VM_GALLIFREY_XIVO)", { ip: "10.10.60.5" }),
    c("address 198.51.100.42 (shorewall param IP_FAILOVER)", { ip: "198.51.100.42" }),
    c("gallifrey's MAC", { mac: "52:54:2b:9e:41:07" }),
    c("name gallifrey (the source itself)", { name: "gallifrey" }),
    post("balloon below [balloon] min on gallifrey", "/v1/vms/gallifrey/balloon", { size: "100M" }),
    post("balloon a VM farmctl did not make (gallifrey)", "/v1/vms/gallifrey/balloon", {
      size: "512M",
    }),
  ];
}

function cli(): Case[] {
  const c = (title: string, args: string[]): Case => ({
    via: "cli",
    title: `farmctl: ${title}`,
    args,
  });
  const out = [
    c("no command", []),
    c("an unknown command", ["format-disk"]),
    c("clone without arguments", ["clone"]),
    c("clone with one argument", ["clone", "gallifrey"]),
    c("clone with an unknown option", ["clone", "--disk", "/dev/sda", "gallifrey", "hostile"]),
    c("clone --ssh-port abc", ["clone", "--ssh-port", "abc", "gallifrey", "hostile"]),
    c("clone --ssh-port -1", ["clone", "--ssh-port", "-1", "gallifrey", "hostile"]),
    c("clone --ssh-port 70000", ["clone", "--ssh-port", "70000", "gallifrey", "hostile"]),
    c("destroy without a name", ["destroy"]),
    c("balloon without a size", ["balloon", "gallifrey"]),
    c("list -o with an unknown field", ["list", "-o", "name,password"]),
    c("--config pointing at /etc/shadow", ["list", "--config", "/etc/shadow"]),
    c("--config pointing at a missing file", ["list", "--config", "/nonexistent.toml"]),
  ];
  for (const [what, v] of ARGV_INJECTIONS.slice(0, 10)) {
    out.push(c(`clone name with ${what}`, ["clone", "gallifrey", v]));
    out.push(c(`destroy name with ${what}`, ["destroy", "--yes", v]));
  }
  for (const [what, v] of ARGV_INJECTIONS.slice(0, 4)) {
    out.push(c(`clone --web with ${what}`, ["clone", "--web", v, "gallifrey", "hostile"]));
    out.push(c(`clone --ip with ${what}`, ["clone", "--ip", v, "gallifrey", "hostile"]));
    out.push(c(`balloon size with ${what}`, ["balloon", "gallifrey", v]));
  }
  out.push(
    c("clone --web gallifrey.dachary.org (another site's)", [
      "clone",
      "--web",
      "gallifrey.dachary.org",
      "gallifrey",
      "hostile",
    ]),
    c("clone --ssh-port 22 (host's sshd)", ["clone", "--ssh-port", "22", "gallifrey", "hostile"]),
    c("clone --ssh-port 80 (nginx)", ["clone", "--ssh-port", "80", "gallifrey", "hostile"]),
    c("clone --ssh-port 22005 (gallifrey's)", [
      "clone",
      "--ssh-port",
      "22005",
      "gallifrey",
      "hostile",
    ]),
    c("clone --ip 10.10.60.1 (the router)", [
      "clone",
      "--ip",
      "10.10.60.1",
      "gallifrey",
      "hostile",
    ]),
    c("clone --ip 10.10.60.2 (the cluster IP)", [
      "clone",
      "--ip",
      "10.10.60.2",
      "gallifrey",
      "hostile",
    ]),
    c("clone --ip 10.10.60.5 (a shorewall param)", [
      "clone",
      "--ip",
      "10.10.60.5",
      "gallifrey",
      "hostile",
    ]),
    c("clone --mac of gallifrey", ["clone", "--mac", "52:54:2b:9e:41:07", "gallifrey", "hostile"]),
    c("clone gallifrey gallifrey", ["clone", "gallifrey", "gallifrey"]),
    c("destroy gallifrey (made by hand)", ["destroy", "--yes", "gallifrey"]),
    c("balloon gallifrey 100M (below [balloon] min)", ["balloon", "gallifrey", "100M"]),
  );
  return out;
}

export const CASES: Case[] = [
  ...malformedJson(),
  ...wrongTypes(),
  ...unknownFields(),
  ...hugeBodies(),
  ...injections(),
  ...badPaths(),
  ...collisionsApi(),
  ...cli(),
];
