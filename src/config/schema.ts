// farmd.toml's schema: every key defaults to the seed host's value (DESIGN.md section 5).
import { z } from "zod";

const argv = z.array(z.string().min(1)).min(1);
const absPath = z.string().startsWith("/", "must be an absolute path");
const size = z.string().regex(/^\d+[KMGT]?$/i, "must be a size like 4G or 1024M");

/** A service farmctl reloads: through systemd (`unit`) or a command (`reload`). */
const service = <T extends z.ZodRawShape>(shape: T, unit: string, checkWrap: string[] = []) =>
  z
    .object({
      ...shape,
      unit: z.string().min(1).default(unit),
      reload: argv.optional(),
      // Prefix of the checker's argv (shorewall probes iptables: give it a throw-away netns).
      check_wrap: z.array(z.string().min(1)).default(checkWrap),
    })
    .strict();

export const configSchema = z
  .object({
    // Unset: <checkout>/state when run from a checkout, else /var/lib/farmd (see stateDir()).
    state_dir: absPath.optional(),
    socket: absPath.default("/run/farmd/farmd.sock"),
    // Group allowed to use the API (the socket is 0660 root:<group>); unset: root's group only.
    socket_group: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]*\$?$/, "must be a group name")
      .optional(),
    templates_dir: absPath.default("/etc/farmd/templates"),
    names: z
      .object({
        domain: z
          .string()
          .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, "must be a DNS domain")
          .default("vm.farm"),
        public_domain: z
          .string()
          .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, "must be a DNS domain")
          .default("dachary.org"),
      })
      .strict()
      .prefault({}),
    ganeti: z
      .object({
        node: z.string().min(1).default("host01.farm"),
        os: z.string().min(1).default("debootstrap+default"),
        memory: size.default("4G"),
        monitor_dir: absPath.default("/var/run/ganeti/kvm-hypervisor/ctrl"),
        monitor: z.enum(["auto", "hmp", "qmp"]).default("auto"),
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
      })
      .strict()
      .prefault({}),
    copy: z
      .object({
        block_size: size.default("1M"),
        ionice_class: z.number().int().min(1).max(3).default(3),
        // How many clones may copy at once; the others wait their turn.
        parallel: z.number().int().min(1).max(64).default(2),
      })
      .strict()
      .prefault({}),
    network: z
      .object({
        subnet: z.string().default("10.10.60.0/24"),
        gateway: z.string().optional(),
      })
      .strict()
      .prefault({}),
    dns: service(
      {
        zone: z.string().min(1).default("farm"),
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
        ssh_port_base: z.number().int().min(1).max(65000).default(22000),
        public_address: z.string().min(1).default("$IP_FAILOVER"),
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
        target: size.default("1G"),
        timeout_ms: z.number().int().positive().default(120_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
