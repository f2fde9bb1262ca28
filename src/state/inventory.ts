// The VM inventory: what farmctl made, and the addresses, MACs and ports it holds.
import { AlreadyExists } from "../api/errors.js";
import type { GuestIdentity, SshHostKey } from "../api/vm.js";
import { now, type Db } from "./db.js";

export interface VmRecord {
  name: string;
  group: string;
  fqdn: string;
  ip: string;
  mac: string;
  sshPort: number;
  webName: string | null;
  memoryBytes: number | null;
  balloonBytes: number | null;
  vg: string | null;
  lvName: string | null;
  lvUuid: string | null;
  diskBytes: number | null;
  source: string | null;
  state: "allocated" | "ready";
  opId: string | null;
  createdAt: string;
  /** The guest's identity, once learnt from its console; null until then. */
  hostname: string | null;
  machineId: string | null;
  sshHostKeys: SshHostKey[] | null;
}

/** What a reservation gives; the rest is learnt later. */
export type NewVm = Omit<VmRecord, "state" | "createdAt" | keyof GuestIdentity>;

interface Row {
  name: string;
  grp: string;
  fqdn: string;
  ip: string;
  mac: string;
  ssh_port: number;
  web_name: string | null;
  memory_bytes: number | null;
  balloon_bytes: number | null;
  vg: string | null;
  lv_name: string | null;
  lv_uuid: string | null;
  disk_bytes: number | null;
  source: string | null;
  state: VmRecord["state"];
  op_id: string | null;
  created_at: string;
  hostname: string | null;
  machine_id: string | null;
  ssh_host_keys: string | null;
}

/** The stored list; anything else (hand-edited, truncated) reads as unknown. */
function hostKeys(json: string | null): SshHostKey[] | null {
  if (json === null) return null;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? (v as SshHostKey[]) : null;
  } catch {
    return null;
  }
}

const fromRow = (r: Row): VmRecord => ({
  name: r.name,
  group: r.grp,
  fqdn: r.fqdn,
  ip: r.ip,
  mac: r.mac,
  sshPort: r.ssh_port,
  webName: r.web_name,
  memoryBytes: r.memory_bytes,
  balloonBytes: r.balloon_bytes,
  vg: r.vg,
  lvName: r.lv_name,
  lvUuid: r.lv_uuid,
  diskBytes: r.disk_bytes,
  source: r.source,
  state: r.state,
  opId: r.op_id,
  createdAt: r.created_at,
  hostname: r.hostname,
  machineId: r.machine_id,
  sshHostKeys: hostKeys(r.ssh_host_keys),
});

/** What the inventory's VMs hold; addresses and ports map to who holds them. */
export interface Held {
  ips: Map<string, string>;
  macs: Set<string>;
  ports: Map<number, string>;
  webs: Set<string>;
}

export class Inventory {
  constructor(private readonly db: Db) {}

  list(): VmRecord[] {
    return (this.db.prepare("SELECT * FROM vms ORDER BY name").all() as Row[]).map(fromRow);
  }

  get(name: string): VmRecord | null {
    const row = this.db.prepare("SELECT * FROM vms WHERE name = ?").get(name) as Row | undefined;
    return row ? fromRow(row) : null;
  }

  /** The addresses, MACs, ports and web names the inventory holds. */
  held(): Held {
    const rows = this.list();
    return {
      ips: new Map(rows.map((r) => [r.ip, `VM ${r.name} (farmctl inventory)`])),
      macs: new Set(rows.map((r) => r.mac)),
      ports: new Map(rows.map((r) => [r.sshPort, `VM ${r.name} (farmctl inventory)`])),
      webs: new Set(rows.flatMap((r) => (r.webName ? [r.webName] : []))),
    };
  }

  /**
   * Reserves a VM's name, address, MAC and port in one transaction: `pick` sees every value held in
   * the inventory at that instant, so two clones can never be handed the same address.
   */
  reserve(pick: (held: Held) => NewVm): VmRecord {
    return this.db
      .transaction(() => {
        const vm = pick(this.held());
        if (this.get(vm.name))
          throw new AlreadyExists(
            `VM '${vm.name}' already exists in the inventory`,
            `pick another name or run \`farmctl destroy ${vm.name}\``,
          );
        const record: VmRecord = {
          ...vm,
          state: "allocated",
          createdAt: now(),
          hostname: null,
          machineId: null,
          sshHostKeys: null,
        };
        this.db
          .prepare(
            `INSERT INTO vms (name, grp, fqdn, ip, mac, ssh_port, web_name, memory_bytes, balloon_bytes, vg, lv_name, lv_uuid, disk_bytes, source, state, op_id, created_at)
             VALUES (@name, @group, @fqdn, @ip, @mac, @sshPort, @webName, @memoryBytes, @balloonBytes, @vg, @lvName, @lvUuid, @diskBytes, @source, @state, @opId, @createdAt)`,
          )
          .run({ ...record, sshHostKeys: null });
        return record;
      })
      .immediate();
  }

  update(
    name: string,
    fields: Partial<Pick<VmRecord, "lvName" | "lvUuid" | "balloonBytes" | "state">>,
  ): void {
    const cols: Record<string, string> = {
      lvName: "lv_name",
      lvUuid: "lv_uuid",
      balloonBytes: "balloon_bytes",
      state: "state",
    };
    const sets = Object.keys(fields).map((k) => `${cols[k]} = @${k}`);
    if (sets.length)
      this.db
        .prepare(`UPDATE vms SET ${sets.join(", ")} WHERE name = @name`)
        .run({ ...fields, name });
  }

  /** What the guest printed at its first boot: its hostname, machine-id and SSH host keys. */
  recordGuest(name: string, g: GuestIdentity): void {
    this.db
      .prepare("UPDATE vms SET hostname = ?, machine_id = ?, ssh_host_keys = ? WHERE name = ?")
      .run(g.hostname, g.machineId, JSON.stringify(g.sshHostKeys), name);
  }

  /** Forgets a destroyed VM: its address, MAC and port are free again. */
  delete(name: string): void {
    this.db.prepare("DELETE FROM vms WHERE name = ?").run(name);
  }

  /** Releases a reservation; only the operation that made it may. */
  release(name: string, opId: string): void {
    this.db.prepare("DELETE FROM vms WHERE name = ? AND op_id = ?").run(name, opId);
  }
}
