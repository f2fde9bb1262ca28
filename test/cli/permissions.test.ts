// Who may talk to farmd: root, and members of socket_group; any other user is refused by the
// socket's mode (0660) before farmd sees a byte. The second user is `nobody`, run with setpriv;
// socket_roles makes it a reader (its primary group in /etc/passwd is nogroup).
import { execa } from "execa";
import { chmodSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FARMCTL, startFarmd, type FarmdProcess } from "./farmd-process.js";

const root = process.getuid?.() === 0;
const USERS_GID = 100; // Debian's "users" group

let farmd: FarmdProcess;
beforeAll(async () => {
  if (!root) return;
  farmd = await startFarmd('socket_group = "users"\nsocket_roles = { nogroup = "reader" }\n');
  chmodSync(farmd.dir, 0o755); // let other users reach the socket's directory: the socket decides
});
afterAll(() => farmd?.stop());

const asNobody = (groups: string[], ...args: string[]) =>
  execa(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      ...groups,
      "node",
      FARMCTL,
      ...args,
      "--config",
      farmd.config,
    ],
    { reject: false },
  );

describe.skipIf(!root)("the farmd socket", () => {
  it("is 0660 root:<socket_group>", () => {
    const st = statSync(farmd.socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect([st.uid, st.gid]).toEqual([0, USERS_GID]);
  });

  it("refuses a user outside the group, exit 77, with the fix", async () => {
    const r = await asNobody(["--clear-groups"], "ops");
    expect(r.exitCode).toBe(77);
    expect(r.stderr).toContain(`farmctl: not allowed to talk to farmd on ${farmd.socket}`);
    expect(r.stderr).toContain("socket_group");
  });

  it("lets a member of the group in", async () => {
    const r = await asNobody([`--groups=${USERS_GID}`], "ops", "--json");
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, operations: [] });
  });

  it("refuses what its role may not do, exit 77, and the audit log names its uid", async () => {
    const r = await asNobody([`--groups=${USERS_GID}`], "cancel", "deadbeef");
    expect(r.exitCode).toBe(77);
    expect(r.stderr).toContain(
      "farmctl: POST /v1/operations/deadbeef/cancel needs role operator; uid:65534 has role reader\n  ask an admin of this farmd to map one of your groups to role operator in farmd.toml's socket_roles",
    );
    const log = await execa("node", [FARMCTL, "log", "--json", "--config", farmd.config]);
    expect(JSON.parse(log.stdout).entries.at(-1)).toMatchObject({
      owner: "uid:65534",
      role: "reader",
      via: "socket",
      route: "/v1/operations/deadbeef/cancel",
      target: "deadbeef",
      status: 403,
      code: "forbidden",
    });
    expect(farmd.stderr()).toContain(
      "audit: uid:65534 (reader, socket) POST /v1/operations/deadbeef/cancel deadbeef: 403 forbidden",
    );
  });
});
