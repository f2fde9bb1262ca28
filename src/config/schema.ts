// farmd.toml's schema: every key defaults to the seed host's value (DESIGN.md section 5).
import { z } from "zod";
import { ROLES } from "../api/auth.js";
import * as check from "./checks.js";
import { parsePortRange } from "./checks.js";
import { apiProblems, apiSection } from "./api.js";
import { guestCustomize, guestFiles } from "./guest.js";
import { parseSize } from "./size.js";

const argv = z.array(z.string().min(1)).min(1);
const absPath = z
  .string()
  .regex(/^\/[^\0\n]*$/, "must be an absolute path")
  .refine((p) => !p.split("/").includes(".."), "must be an absolute path without '..'");
const size = check.size("4G or 1024M");
const groupName = z.string().regex(/^[a-z_][a-z0-9_-]*\$?$/, "must be a group name");

/** A service farmctl reloads: through systemd (`unit`) or a command (`reload`). */
const service = <T extends z.ZodRawShape>(shape: T, unit: string, checkWrap: string[] = []) =>
  z
    .object({
      ...shape,
      unit: check.unitName.default(unit),
      reload: argv.optional(),
      // Prefix of the checker's argv (shorewall probes iptables: give it a throw-away netns).
      check_wrap: z.array(z.string().min(1)).default(checkWrap),
    })
    .strict();

// ---- [guest] keys of the identity step (issue 9); other [guest] keys come with the customize step.
const guestIdentityKeys = {
  // How long a clone watches the started guest's console for its first-boot host keys.
  identity_timeout: check.seconds('"3m"', 3600).default(180),
};
// ---- end of the identity step's [guest] keys

const shape = z
  .object({
    // Unset: <checkout>/state when run from a checkout, else /var/lib/farmd (see stateDir()).
    state_dir: absPath.optional(),
    socket: absPath.default("/run/farmd/farmd.sock"),
    // Group allowed to use the API (the socket is 0660 root:<group>); unset: root's group only.
    socket_group: groupName.optional(),
    // Roles of the socket's non-root callers by group (issue 11): { "<group>" = "reader" | ... }.
    socket_roles: z.record(groupName, z.enum(ROLES)).default({}),
    templates_dir: absPath.default("/etc/farmd/templates"),
    names: z
      .object({
        domain: check.domain("vm.farm").default("vm.farm"),
        public_domain: check.domain("dachary.org").default("dachary.org"),
      })
      .strict()
      .prefault({}),
    ganeti: z
      .object({
        node: check.domain("host01.farm").default("host01.farm"),
        os: z
          .string()
          .regex(
            /^[A-Za-z0-9._-]+(\+[A-Za-z0-9._-]+)?$/,
            "must be a Ganeti OS like debootstrap+default",
          )
          .default("debootstrap+default"),
        memory: check.size("4G", true).default("4G"),
        monitor_dir: absPath.default("/var/run/ganeti/kvm-hypervisor/ctrl"),
        monitor: z.enum(["auto", "hmp", "qmp"]).default("auto"),
        // How long destroy's shutdown waits for the guest before Ganeti stops it (seconds).
        shutdown_timeout: check.seconds('30 or "2m"', 3600).default(30),
      })
      .strict()
      .prefault({}),
    lvm: z
      .object({
        vg: z
          .string()
          .regex(/^[A-Za-z0-9+_.-]+$/, "must be a VG name")
          .default("all"),
        snapshot_size: size.default("1G"),
        // A thin pool of the VG for new disks cloned from a thick source; "" = thick LVs.
        thin_pool: z
          .string()
          .regex(/^$|^[A-Za-z0-9+_.][A-Za-z0-9+_.-]*$/, "must be an LV name (the pool's)")
          .default(""),
        // A clone is refused when its thin pool's data or metadata would pass this (percent).
        thin_pool_limit: z.number().int().min(1).max(100).default(90),
      })
      .strict()
      .prefault({}),
    copy: z
      .object({
        block_size: z
          .string()
          .regex(/^[1-9][0-9]*[KMGT]?$/i, "must be a dd block size like 1M or 4M")
          .default("1M"),
        ionice_class: z.number().int().min(1).max(3).default(3),
        // The copy's write limit per second ("100M"); "" or "0": none. Enforced by the kernel where it can.
        bwlimit: z
          .string()
          .refine(
            (s) => /^\s*0?\s*$/.test(s) || check.isSize(s),
            'must be a size per second like 100M, or "" for none',
          )
          .default(""),
        // How many clones may copy at once; the others wait their turn.
        parallel: z.number().int().min(1).max(64).default(2),
      })
      .strict()
      .prefault({}),
    network: z
      .object({
        subnet: check.subnet.default("10.10.60.0/24"),
        gateway: z
          .string()
          .refine(check.isIpv4, "must be an IPv4 address like 10.10.60.1")
          .optional(),
      })
      .strict()
      .prefault({}),
    dns: service(
      {
        zone: check.domain("farm").default("farm"),
        zone_file: absPath.default("/etc/bind/db.farm"),
        resolve_timeout_ms: z.number().int().positive().default(30_000),
      },
      "bind9.service",
    ).prefault({}),
    dhcp: service(
      { config: absPath.default("/etc/dhcp/dhcpd.conf") },
      "isc-dhcp-server.service",
    ).prefault({}),
    firewall: service(
      {
        rules: absPath.default("/etc/shorewall/rules"),
        params: absPath.default("/etc/shorewall/params"),
        ssh_port_base: z.number().int().min(1).max(65280).default(22000),
        // SSH ports farmctl may forward; unset: ssh_port_base to ssh_port_base + 255 (see sshPorts()).
        ssh_ports: check.portRange.optional(),
        public_address: check.publicAddress.default("$IP_FAILOVER"),
      },
      "shorewall.service",
      ["unshare", "--net"],
    ).prefault({}),
    proxy: service(
      {
        sites_available: absPath.default("/etc/nginx/sites-available"),
        sites_enabled: absPath.default("/etc/nginx/sites-enabled"),
      },
      "nginx.service",
    ).prefault({}),
    balloon: z
      .object({
        target: check.size("1G", true).default("1G"),
        // The smallest balloon farmctl sets: below it a guest starts killing its processes.
        min: check.size("256M", true).default("256M"),
        timeout_ms: z.number().int().positive().default(120_000),
      })
      .strict()
      .prefault({}),
    leases: z
      .object({
        // How often farmd looks for VMs whose lease ran out (clone --lease) and destroys them.
        check_interval: check.duration('"30s"', 1000, 3_600_000).prefault("30s"),
        // The longest lease a clone or a renew may ask for.
        max: check.duration('"30d"', 60_000, 3650 * 86_400_000).prefault("30d"),
      })
      .strict()
      .prefault({}),
    guest: z
      .object({
        // The customize step: which operations run on the new disk, and the files made from templates.
        customize: guestCustomize,
        files: guestFiles,
        // -- libguestfs, which the customize step drives (host/guestfs.ts) --
        // LIBGUESTFS_BACKEND: "direct" runs QEMU itself, no libvirtd needed.
        backend: z
          .string()
          .regex(/^[a-z]+(:[^\s\0]+)?$/, "must be a libguestfs backend like direct or libvirt")
          .default("direct"),
        // LIBGUESTFS_BACKEND_SETTINGS, joined with ':'; ["force_tcg"] on a host without KVM.
        backend_settings: z
          .array(z.string().regex(/^[A-Za-z0-9_.,=/+-]+$/, "must be a setting like force_tcg"))
          .default([]),
        // LIBGUESTFS_CACHEDIR, where the appliance is built once; unset: <state_dir>/guestfs.
        cache_dir: absPath.optional(),
        // Sessions at once: under TCG each appliance costs ~1 GiB of RAM and a CPU for ~45 s.
        parallel: z.number().int().min(1).max(16).default(1),
        // How long one session (launch, inspect, edits, shutdown) may take.
        timeout_ms: z.number().int().positive().default(600_000),
        // -- end of libguestfs --
        ...guestIdentityKeys,
      })
      .strict()
      .prefault({}),
    api: apiSection,
  })
  .strict();

export const configSchema = shape.superRefine(crossChecks);

/** Checks that involve two keys: each names the key to fix. */
function crossChecks(c: z.infer<typeof shape>, ctx: z.RefinementCtx): void {
  const problem = (path: string[], message: string) =>
    ctx.addIssue({ code: "custom", path, message });
  const { subnet, gateway } = c.network;
  if (gateway !== undefined && check.isIpv4(gateway) && !check.hostOf(subnet, gateway))
    problem(["network", "gateway"], `must be a host address inside [network] subnet ${subnet}`);
  // A size refused by its own key is reported there, not again here (NaN compares false).
  const bytes = (s: string) => (check.isSize(s) ? parseSize(s) : NaN);
  if (bytes(c.balloon.target) < bytes(c.balloon.min))
    problem(["balloon", "target"], `must be at least [balloon] min (${c.balloon.min})`);
  if (bytes(c.balloon.target) > bytes(c.ganeti.memory))
    problem(["balloon", "target"], `must be at most [ganeti] memory (${c.ganeti.memory})`);
  for (const [key, message] of apiProblems(c.api)) problem(["api", key], message);
}

/** The SSH ports farmctl may forward: [firewall] ssh_ports, else 256 ports from ssh_port_base. */
export function sshPorts(fw: Config["firewall"]): { first: number; last: number } {
  const given = fw.ssh_ports === undefined ? null : parsePortRange(fw.ssh_ports);
  return given ?? { first: fw.ssh_port_base, last: fw.ssh_port_base + 255 };
}

export type Config = z.infer<typeof configSchema>;
