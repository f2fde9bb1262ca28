// What the customize step changes inside the new disk: the operations [guest] customize names,
// turned into GuestEdits for the GuestPort. Pure: the guest's files it needs are read by the step.
import { posix } from "node:path";
import type { GuestOperation } from "../../config/guest.js";
import type { Config } from "../../config/schema.js";
import type { GuestEdit, GuestOs, TemplatePort } from "../ports.js";
import { renderGuestFiles, renderWatched, type GuestVm } from "./files.js";
import { FIRSTBOOT_SCRIPT, FIRSTBOOT_UNIT, FIRSTBOOT_WANTS } from "./firstboot.js";
import { setHostname } from "./hosts.js";

/** Stale network state Debian's DHCP clients keep (systemd-networkd keeps its leases in /run). */
export const NET_STATE = [
  "/etc/udev/rules.d/70-persistent-net.rules",
  "/var/lib/dhcp/dhclient*.leases",
  "/var/lib/dhcpcd/*.lease",
  "/var/lib/dhcpcd/*.lease6",
  "/var/lib/NetworkManager/*.lease",
];
export const DBUS_MACHINE_ID = "/var/lib/dbus/machine-id";

export interface GuestPlanInput {
  config: Config["guest"];
  templates: TemplatePort;
  vm: GuestVm;
  vars: Record<string, string>;
  /** Null when the guest was not inspected (a dry run, whose new disk does not exist). */
  os: GuestOs | null;
  /** The guest's /etc/hosts (null: absent; undefined: not read). */
  hosts?: string | null;
}

export interface GuestPlan {
  operations: GuestOperation[];
  edits: GuestEdit[];
  hostname: string | null;
  files: string[];
}

const ROOT = { uid: 0, gid: 0 };
const write = (path: string, content: string, mode = 0o644): GuestEdit => ({
  op: "write",
  path,
  content,
  mode,
  ...ROOT,
});

export function planGuest(input: GuestPlanInput): GuestPlan {
  const { vm, templates, vars } = input;
  const operations = input.config.customize;
  const edits: GuestEdit[] = [];
  let files: string[] = [];
  for (const op of operations) {
    if (op === "hostname") {
      edits.push(write("/etc/hostname", `${vm.name}\n`));
      if (input.hosts !== undefined)
        edits.push(write("/etc/hosts", setHostname(input.hosts, vm.fqdn, vm.name)));
    } else if (op === "machine-id") {
      // Debian's dbus keeps a copy (dbus-uuidgen --ensure), not a link: gone, libdbus reads
      // /etc/machine-id, and the next --ensure copies the new one.
      edits.push(
        { op: "truncate", path: "/etc/machine-id" },
        { op: "delete", path: DBUS_MACHINE_ID },
      );
    } else if (op === "ssh-host-keys") {
      const unit = posix.basename(FIRSTBOOT_UNIT);
      // A minimal image may lack /usr/local/sbin or systemd's unit dir: make them first.
      const dirs = [FIRSTBOOT_SCRIPT, FIRSTBOOT_UNIT].map((p) => posix.dirname(p));
      edits.push(
        { op: "delete", path: "/etc/ssh/ssh_host_*" },
        ...dirs.map((path): GuestEdit => ({ op: "mkdir", path, mode: 0o755 })),
        write(FIRSTBOOT_SCRIPT, renderWatched(templates, "farm-firstboot.sh.njk", vm, vars), 0o755),
        write(FIRSTBOOT_UNIT, renderWatched(templates, "farm-firstboot.service.njk", vm, vars)),
        { op: "mkdir", path: FIRSTBOOT_WANTS, mode: 0o755 },
        { op: "symlink", target: FIRSTBOOT_UNIT, path: `${FIRSTBOOT_WANTS}/${unit}` },
      );
    } else if (op === "net-state") {
      edits.push(...NET_STATE.map((path): GuestEdit => ({ op: "delete", path })));
    } else {
      const rendered = renderGuestFiles(input.config.files, templates, vm, vars);
      for (const f of rendered) {
        const dir = posix.dirname(f.path);
        if (dir !== "/") edits.push({ op: "mkdir", path: dir, mode: 0o755 });
        edits.push({
          op: "write",
          path: f.path,
          content: f.content,
          mode: f.mode,
          uid: f.uid,
          gid: f.gid,
        });
      }
      files = rendered.map((f) => f.path);
    }
  }
  return {
    operations,
    edits,
    hostname: operations.includes("hostname") ? vm.name : null,
    files,
  };
}

/** A GuestEdit as a dry run shows it: the path, and the new content as added lines. */
export function describeEdit(e: GuestEdit): { path: string; diff: string } {
  const path = `guest:${e.path}`;
  const head = `--- ${path}\n+++ ${path}\n`;
  switch (e.op) {
    case "write": {
      const mode = `mode ${e.mode.toString(8).padStart(4, "0")}, owner ${e.uid}:${e.gid}`;
      const lines = e.content.replace(/\n$/, "").split("\n");
      return {
        path,
        diff: `${head}@@ new content (${mode}) @@\n${lines.map((l) => `+${l}`).join("\n")}\n`,
      };
    }
    case "delete":
      return { path, diff: `${head}@@ deleted (when present) @@\n` };
    case "truncate":
      return { path, diff: `${head}@@ emptied (a new one is made at first boot) @@\n` };
    case "mkdir":
      return {
        path,
        diff: `${head}@@ directory (mode ${e.mode.toString(8).padStart(4, "0")}) @@\n`,
      };
    case "symlink":
      return { path, diff: `${head}@@ symlink to ${e.target} @@\n` };
  }
}
