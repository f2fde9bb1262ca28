// Every template farmd renders sees `vars`, `farm` and `member` (issue 10): an admin's override of
// the zone record using them, a variable not given refused at preflight, and destroy and audit
// finding the entries by their VM whatever the variables and whatever the templates say since.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Templates } from "../../src/host/templates.js";
import { auditAndFix } from "../../src/ops/audit/audit.js";
import { renderWatched } from "../../src/ops/guest/files.js";
import { failure } from "../fakes/scripted-runner.js";
import { withoutSerial, type Harness } from "./clone-harness.js";
import { devMember } from "./farm-member.js";
import { VM } from "./guest/vm.js";
import { overridesDir, withOverrides } from "./template-overrides.js";

const ZONE_WITH_SCOPE = `{{ zoneName }}\tIN\tA\t{{ ip }}
; release {{ vars.release }}{% if farm %} farm {{ farm }} member {{ member }}{% else %} no farm{% endif %}
`;

const zone = (h: Harness) => readFileSync(h.config.dns.zone_file, "utf8");

const member = devMember({ release: "3.2.0" });

describe("host templates see vars, farm and member", () => {
  it("renders a member's variables, farm and member key", async () => {
    const h = withOverrides({ "zone-record.njk": ZONE_WITH_SCOPE });
    await h.clone({ vars: { release: "3.2.0" }, farm: member });
    expect(zone(h)).toContain(
      "gallifrey-dev.xivo.vm\tIN\tA\t10.10.60.6\n; release 3.2.0 farm rel-3-2 member dev\n",
    );
  });

  it("renders a plain clone's --var values, with farm and member null", async () => {
    const h = withOverrides({ "zone-record.njk": ZONE_WITH_SCOPE });
    await h.clone({ vars: { release: "1.0" } });
    expect(zone(h)).toContain("; release 1.0 no farm\n");
  });

  it("refuses at preflight a variable the clone was not given, naming it and the template", async () => {
    const h = withOverrides({ "zone-record.njk": ZONE_WITH_SCOPE });
    const before = h.snapshot();
    const err = await failure(h.clone({}));
    expect(err.code).toBe("bad_input");
    expect(err.message).toBe(
      "template zone-record.njk uses vars.release, which this clone was not given",
    );
    expect(err.hint).toContain("--var release=VALUE");
    expect(h.runner.mutations()).toEqual([]);
    expect(h.snapshot()).toEqual(before);
    expect(h.inventory.get("gallifrey-dev")).toBeNull();
  });

  it("keeps undefined names errors: a plain clone printing its farm fails", async () => {
    const h = withOverrides({
      "zone-record.njk": "{{ zoneName }}\tIN\tA\t{{ ip }} ; {{ farm }}\n",
    });
    const err = await failure(h.clone({}));
    expect(err.code).toBe("config_invalid");
    expect(err.message).toMatch(/zone-record\.njk[\s\S]*null or undefined/);
    expect(h.runner.mutations()).toEqual([]);
  });

  it("destroys the entries by their VM even after the template changed", async () => {
    const h = withOverrides({ "zone-record.njk": ZONE_WITH_SCOPE });
    const before = h.snapshot();
    await h.clone({ vars: { release: "3.2.0", note: "a;b}c" }, farm: member });
    // The admin edits the template since: it now needs a variable this VM never had.
    writeFileSync(join(h.config.templates_dir, "zone-record.njk"), "{{ vars.nosuch }}\n");
    await h.destroy({ name: "gallifrey-dev" });
    expect(withoutSerial(h.snapshot())).toEqual(withoutSerial(before));
  });

  it("audit --fix adds an entry again with the variables the VM was made with", async () => {
    const h = withOverrides({ "zone-record.njk": ZONE_WITH_SCOPE });
    await h.clone({ vars: { release: "3.2.0" }, farm: member });
    const cloned = zone(h);
    const block =
      /; farmctl begin gallifrey-dev[\s\S]*?; farmctl end gallifrey-dev\.xivo\.vm\.farm\n/;
    writeFileSync(h.config.dns.zone_file, cloned.replace(block, ""));
    const report = await auditAndFix({ ...h.deps(), resolve: h.resolve }, true);
    expect(report.repaired.map((f) => f.code)).toContain("entry-missing");
    const mask = (t: string) => t.replace(/\d{10}(\s*; Serial)/, "S$1");
    expect(mask(zone(h))).toBe(mask(cloned));
    expect(zone(h)).toContain("; release 3.2.0 farm rel-3-2 member dev\n");
  });
});

describe("guest templates see farm and member", () => {
  it("renders them next to vars, null for a plain clone", () => {
    const dir = overridesDir({
      "guest/release.njk":
        "{{ vars.release }} {% if farm %}{{ farm }}/{{ member }}{% else %}-{% endif %}\n",
    });
    const t = new Templates(dir);
    const vars = { release: "3.2.0" };
    expect(renderWatched(t, "release.njk", { ...VM, farm: "rel-3-2", member: "dev" }, vars)).toBe(
      "3.2.0 rel-3-2/dev\n",
    );
    expect(renderWatched(t, "release.njk", VM, vars)).toBe("3.2.0 -\n");
  });
});
