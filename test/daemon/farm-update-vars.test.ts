// `farm up` changing a member's variables over the simulated host01, with an admin's override
// template that prints `vars.release`: exactly the families using it are rewritten (remove, then
// add), every other file stays byte for byte, and a refusing checker leaves the files as they were.
import { describe, expect, it } from "vitest";
import type { OpEvent } from "../../src/api/events.js";
import { recording } from "../fakes/scripted-runner.js";
import { harness, withoutSerial, zoneSerial, type Harness } from "../ops/clone-harness.js";
import { overridesDir } from "../ops/template-overrides.js";
import { farmdFor, spec, statuses, up } from "./farm-helpers.js";

const SITE = `server {
 listen {{ listen }};
 server_name {{ webName }};
 # release {{ vars.release }}
 location / { proxy_pass http://{{ fqdn }}; }
}
`;
const ZONE = `{{ zoneName }}\tIN\tA\t{{ ip }}
; release {{ vars.release }}
`;

const ZONE_REFUSED = `dns_master_load: db.farm:5: empty label
zone farm/IN: loading from master file db.farm failed: empty label
zone farm/IN: not loaded due to errors.
`;

/** A harness whose templates_dir holds `files`, and a farmd over it. */
async function withOverrides(files: Record<string, string>) {
  const h = harness("", { templatesDir: overridesDir(files) });
  return { h, ...(await farmdFor(h)) };
}

const rel = (vars: Record<string, string>) => spec("rel", { a: { vars } });

/** The files that differ between two snapshots of etc/. */
function changed(a: Map<string, string>, b: Map<string, string>): string[] {
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => a.get(p) !== b.get(p)).map((p) => p.replace(/.*\/etc\//, ""));
}

const memberEnd = (events: OpEvent[]) =>
  events.find((e) => e.type === "member" && e.status !== "started");

const zoneMask = (h: Harness) => withoutSerial(h.snapshot());

describe("farm up: a variable update re-renders what uses the variables", () => {
  it("rewrites the nginx site printing vars.release, and nothing else", async () => {
    const { h, socket, client } = await withOverrides({ "nginx-site.njk": SITE });
    await up(socket, client, rel({ release: "3.2.0", note: "x" }));
    const before = h.snapshot();
    const site = [...before].find(([p]) => p.includes("sites-available/rel-a."));
    expect(site?.[1]).toContain(" # release 3.2.0\n");
    h.runner.calls.length = 0;
    const r = await up(socket, client, rel({ release: "3.2.1", note: "x" }));
    expect(statuses(r.result)).toEqual({ a: "done" });
    expect(r.result.members[0]!.note).toBe("re-rendered: proxy");
    expect(memberEnd(r.events)).toMatchObject({ status: "done", note: "re-rendered: proxy" });
    const after = h.snapshot();
    expect(changed(before, after)).toEqual([site![0].replace(/.*\/etc\//, "")]);
    expect(after.get(site![0])).toBe(site![1].replace("release 3.2.0", "release 3.2.1"));
    // The site was taken out, then checked and put in again: nginx reloaded after each.
    expect(h.runner.mutations()).toEqual([["reload-proxy"], ["reload-proxy"]]);
    expect(h.inventory.get("rel-a")!.vars).toEqual({ release: "3.2.1", note: "x" });
    const undo = h.journal.steps(r.opId).find((s) => s.name === "members")!.data;
    expect(undo["rerender:a"]).toMatchObject({ vm: "rel-a", done: [{ family: "proxy" }] });
  });

  it("rewrites the zone record printing vars.release, the serial bumped, nothing else", async () => {
    const { h, socket, client } = await withOverrides({ "zone-record.njk": ZONE });
    await up(socket, client, rel({ release: "3.2.0" }));
    const before = h.snapshot();
    const r = await up(socket, client, rel({ release: "3.2.1" }));
    expect(r.result.members[0]!.note).toBe("re-rendered: dns");
    const after = h.snapshot();
    expect(changed(before, after)).toEqual(["bind/db.farm"]);
    expect(zoneSerial(after)).toBeGreaterThan(zoneSerial(before));
    const zone = after.get(h.config.dns.zone_file)!;
    expect(zone).toContain("rel-a.xivo.vm\tIN\tA\t10.10.60.6\n; release 3.2.1\n");
    expect(zone).not.toContain("release 3.2.0");
    expect(await h.resolve("rel-a.xivo.vm.farm")).toEqual(["10.10.60.6"]);
  });

  it("a variable no host template uses rewrites nothing, and says so", async () => {
    const { h, socket, client } = await withOverrides({ "nginx-site.njk": SITE });
    await up(socket, client, rel({ release: "3.2.0", note: "x" }));
    const before = h.snapshot();
    h.runner.calls.length = 0;
    const r = await up(socket, client, rel({ release: "3.2.0", note: "y" }));
    expect(statuses(r.result)).toEqual({ a: "done" });
    expect(r.result.members[0]!.note).toBe("nothing on the host uses the changed variables");
    expect(h.snapshot()).toEqual(before);
    expect(h.runner.mutations()).toEqual([]);
    expect(h.inventory.get("rel-a")!.vars).toEqual({ release: "3.2.0", note: "y" });
  });

  it("nginx -t refusing the rewritten site fails the member and puts the site back", async () => {
    const { h, socket, client } = await withOverrides({ "nginx-site.njk": SITE });
    await up(socket, client, rel({ release: "3.2.0" }));
    const before = h.snapshot();
    let checks = 0;
    h.runner.faults.push((a) =>
      a[0] === "nginx" && checks++ === 0
        ? { exitCode: 1, stderr: "nginx: [emerg] host not found in upstream\n" }
        : undefined,
    );
    const r = await up(socket, client, rel({ release: "3.2.1" }));
    expect(statuses(r.result)).toEqual({ a: "failed" });
    expect(r.result.members[0]!.error).toContain("rejected by nginx -t");
    expect(h.snapshot()).toEqual(before);
    expect(h.inventory.get("rel-a")!.vars).toEqual({ release: "3.2.0" });
    expect(r.end.state).toBe("failed");
  });

  it("named-checkzone refusing the rewritten zone fails the member and puts the record back", async () => {
    const { h, socket, client } = await withOverrides({ "zone-record.njk": ZONE });
    await up(socket, client, rel({ release: "3.2.0" }));
    const before = zoneMask(h);
    // The first check is the removal's; the second, the new record's (named-checkzone 9.18's words).
    let checks = 0;
    h.runner.faults.push((a) =>
      a[0] === "named-checkzone" && ++checks === 2
        ? { exitCode: 1, stderr: ZONE_REFUSED }
        : undefined,
    );
    const r = await up(socket, client, rel({ release: "3.2.1" }));
    expect(statuses(r.result)).toEqual({ a: "failed" });
    expect(r.result.members[0]!.error).toContain("rejected by named-checkzone");
    expect(checks).toBeGreaterThan(2);
    expect(zoneMask(h)).toEqual(before);
    expect(h.snapshot().get(h.config.dns.zone_file)).toContain("; release 3.2.0\n");
    expect(h.inventory.get("rel-a")!.vars).toEqual({ release: "3.2.0" });
  });

  it("a failure after the rewrite (Ganeti gone before the balloon) puts the site back too", async () => {
    const { h, socket, client } = await withOverrides({ "nginx-site.njk": SITE });
    await up(socket, client, rel({ release: "3.2.0" }));
    const before = h.snapshot();
    // Once the site is rewritten (nginx reloaded twice), Ganeti no longer answers.
    const reloads = () => h.runner.calls.filter((a) => a[0] === "reload-proxy").length;
    const already = reloads();
    h.runner.faults.push((a) =>
      a[0] === "gnt-instance" && a[1] === "list" && reloads() >= already + 2
        ? { exitCode: 1, stderr: recording("gnt-instance-3.0.2-list-no-cluster-stderr.txt") }
        : undefined,
    );
    const r = await up(
      socket,
      client,
      spec("rel", { a: { memory: "3G", vars: { release: "3.2.1" } } }),
    );
    expect(statuses(r.result)).toEqual({ a: "failed" });
    expect(r.result.members[0]!.error).toContain("Cluster not initialized");
    expect(reloads()).toBe(already + 4);
    expect(h.snapshot()).toEqual(before);
    expect(h.inventory.get("rel-a")!.vars).toEqual({ release: "3.2.0" });
  });
});
