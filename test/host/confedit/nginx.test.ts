import { describe, expect, it } from "vitest";
import { BadInput } from "../../../src/api/errors.js";
import * as nginx from "../../../src/host/confedit/nginx.js";
import { Templates } from "../../../src/host/templates.js";
import { DEV, fixture } from "./helpers.js";

const t = new Templates("/nonexistent/farmd-templates");
const GALLIFREY = fixture("etc/nginx/sites-available/gallifrey.dachary.org");

describe("nginx site", () => {
  it("renders the seed's server block with the Host header", () => {
    expect(nginx.render(t, DEV)).toBe(`server {
 listen 80;
 server_name gallifrey-dev.dachary.org;
 access_log  /var/log/nginx/gallifrey-dev.dachary.org.access.log;

 location / {
  proxy_pass   http://gallifrey-dev.xivo.vm.farm;
  proxy_set_header Host $host;
 }
}
`);
  });

  it("takes a log dir and listen address, checked", () => {
    const out = nginx.render(t, DEV, { logDir: "/tmp/x/logs/", listen: "127.0.0.1:8080" });
    expect(out).toContain(" listen 127.0.0.1:8080;\n");
    expect(out).toContain("access_log  /tmp/x/logs/gallifrey-dev.dachary.org.access.log;");
    expect(() => nginx.render(t, DEV, { logDir: "/tmp/x;\n" })).toThrow(BadInput);
    expect(() => nginx.render(t, DEV, { logDir: "/tmp/../etc" })).toThrow(BadInput);
    expect(() => nginx.render(t, DEV, { listen: "80 default_server" })).toThrow(BadInput);
  });

  it("refuses a VM without a web name", () => {
    const { webName: _, ...noWeb } = DEV;
    expect(() => nginx.render(t, noWeb)).toThrow(BadInput);
    expect(() => nginx.siteFileName(noWeb)).toThrow(BadInput);
  });

  it("makes the whole site file as one block, and undoes it", () => {
    const site = nginx.addEntry("", DEV, nginx.render(t, DEV));
    expect(site.startsWith(`# farmctl begin ${DEV.fqdn}\nserver {\n`)).toBe(true);
    expect(site.endsWith(`}\n# farmctl end ${DEV.fqdn}\n`)).toBe(true);
    expect(nginx.findEntry(site, DEV.fqdn)).toBeDefined();
    expect(nginx.findEntry(GALLIFREY, DEV.fqdn)).toBeUndefined();
    expect(nginx.removeEntry(site, DEV.fqdn)).toBe("");
    expect(nginx.siteFileName(DEV)).toBe("gallifrey-dev.dachary.org");
  });

  it("adds to and removes from a shared file byte for byte", () => {
    const added = nginx.addEntry(GALLIFREY, DEV, nginx.render(t, DEV));
    expect(nginx.removeEntry(added, DEV.fqdn)).toBe(GALLIFREY);
    expect(nginx.serverNames(added)).toEqual([
      "gallifrey.dachary.org",
      "gallifrey-dev.dachary.org",
    ]);
  });

  it("reads server names of hand-written sites", () => {
    expect(nginx.serverNames(GALLIFREY)).toEqual(["gallifrey.dachary.org"]);
    const text = `server { listen 80 default_server; server_name _; }
# server_name commented.dachary.org;
server {
  server_name A.dachary.org "b.dachary.org" *.c.dachary.org;
  location / { return 200 "server_name x;"; }
}
`;
    expect(nginx.serverNames(text)).toEqual(["a.dachary.org", "b.dachary.org", "*.c.dachary.org"]);
  });
});
