// The VM inventory: what farmctl made, and the addresses, MACs and ports it holds.
import type { FarmMembership } from "../api/clone.js";
import { AlreadyExists, NotFound } from "../api/errors.js";
import type { MemberSpec } from "../api/farm.js";
import type { RecordedMember } from "../ops/farm/plan.js";
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
  /** The variables its templates saw ({} for a clone given none, or made before they were kept). */
  vars: Record<string, string>;
  /** Its farm and member key; null for a VM of no farm. */
  farm: string | null;
  member: string | null;
  /** Identity.owner of the operation that made it; null for a VM made before owners were kept. */
  owner: string | null;
  /** When its lease runs out (ISO 8601, clone --lease); null: it stays until destroyed. */
  expiresAt: string | null;
}

/** What a reservation gives; the rest is learnt later. */
export type NewVm = Omit<VmRecord, "state" | "createdAt" | keyof GuestIdentity | VmScope> & {
  vars?: Record<string, string>;
  /** Set for a farm's member: recorded with the reservation, in the same transaction. */
  membership?: FarmMembership;
};

type VmScope = "vars" | "farm" | "member" | "owner" | "expiresAt";

export type { RecordedMember };

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
  vars: string | null;
  farm: string | null;
  member: string | null;
  member_spec: string | null;
  spec_hash: string | null;
  owner: string | null;
  expires_at: string | null;
}

/** A stored JSON value, or null when it is absent or unreadable (hand-edited, truncated). */
function parseJson(json: string | null): unknown {
  if (json === null) return null;
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}

/** The stored list; anything else reads as unknown. */
function hostKeys(json: string | null): SshHostKey[] | null {
  const v = parseJson(json);
  return Array.isArray(v) ? (v as SshHostKey[]) : null;
}

/** The stored variables: string values only; a VM made before v4 saw none. */
function storedVars(json: string | null): Record<string, string> {
  const v = parseJson(json);
  if (typeof v !== "object" || v === null || Array.isArray(v)) return {};
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x === "string")) as Record<
    string,
    string
  >;
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
  vars: storedVars(r.vars),
  farm: r.farm,
  member: r.member,
  owner: r.owner,
  expiresAt: r.expires_at,
});

/** A member row whose spec cannot be read is still listed: the planner then replaces it. */
function memberOf(r: Row): RecordedMember {
  const spec = parseJson(r.member_spec);
  return {
    farm: r.farm!,
    member: r.member!,
    name: r.name,
    spec: (typeof spec === "object" && spec !== null ? spec : {}) as MemberSpec,
    specHash: r.spec_hash ?? "",
  };
}

/** What an in-place update of a member changes in its record. */
export interface MemberUpdate {
  spec: MemberSpec;
  specHash: string;
  vars: Record<string, string>;
  memoryBytes?: number;
  balloonBytes?: number | null;
}

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

  /** The record of a Ganeti instance name (fqdn is unique), for show's one-VM lookup. */
  byFqdn(fqdn: string): VmRecord | null {
    const row = this.db.prepare("SELECT * FROM vms WHERE fqdn = ?").get(fqdn) as Row | undefined;
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
        const { membership: m, ...fields } = vm;
        const record: VmRecord = {
          ...fields,
          state: "allocated",
          createdAt: now(),
          hostname: null,
          machineId: null,
          sshHostKeys: null,
          vars: vm.vars ?? {},
          farm: m?.farm ?? null,
          member: m?.member ?? null,
          // Whoever started the operation that reserves it owns it.
          owner: this.ownerOf(vm.opId),
          expiresAt: null,
        };
        this.db
          .prepare(
            `INSERT INTO vms (name, grp, fqdn, ip, mac, ssh_port, web_name, memory_bytes, balloon_bytes, vg, lv_name, lv_uuid, disk_bytes, source, state, op_id, created_at, vars, farm, member, member_spec, spec_hash, owner)
             VALUES (@name, @group, @fqdn, @ip, @mac, @sshPort, @webName, @memoryBytes, @balloonBytes, @vg, @lvName, @lvUuid, @diskBytes, @source, @state, @opId, @createdAt, @varsJson, @farm, @member, @memberSpec, @specHash, @owner)`,
          )
          .run({
            ...record,
            sshHostKeys: null,
            varsJson: JSON.stringify(record.vars),
            memberSpec: m ? JSON.stringify(m.spec) : null,
            specHash: m?.specHash ?? null,
          });
        return record;
      })
      .immediate();
  }

  private ownerOf(opId: string | null): string | null {
    const r = this.db.prepare("SELECT owner FROM operations WHERE id = ?").get(opId) as
      { owner: string | null } | undefined;
    return r?.owner ?? null;
  }

  update(
    name: string,
    fields: Partial<Pick<VmRecord, "lvName" | "lvUuid" | "balloonBytes" | "state" | "expiresAt">>,
  ): void {
    const cols: Record<string, string> = {
      lvName: "lv_name",
      lvUuid: "lv_uuid",
      balloonBytes: "balloon_bytes",
      state: "state",
      expiresAt: "expires_at",
    };
    const sets = Object.keys(fields).map((k) => `${cols[k]} = @${k}`);
    if (sets.length)
      this.db
        .prepare(`UPDATE vms SET ${sets.join(", ")} WHERE name = @name`)
        .run({ ...fields, name });
  }

  /** The members the inventory records for `farm`, by name. */
  members(farm: string): RecordedMember[] {
    const rows = this.db
      .prepare("SELECT * FROM vms WHERE farm = ? AND member IS NOT NULL ORDER BY name")
      .all(farm) as Row[];
    return rows.map(memberOf);
  }

  /** The VMs with a lease, soonest to end first; `protect`: a farm member its spec protects. */
  leased(): { vm: VmRecord; protect: boolean }[] {
    const rows = this.db
      .prepare("SELECT * FROM vms WHERE expires_at IS NOT NULL ORDER BY expires_at, name")
      .all() as Row[];
    return rows.map((r) => ({
      vm: fromRow(r),
      protect: r.member !== null && memberOf(r).spec.protect === true,
    }));
  }

  /** The farm and member key the inventory records for a VM; null when it has no record. */
  farmOf(name: string): { farm: string | null; member: string | null } | null {
    const vm = this.get(name);
    return vm ? { farm: vm.farm, member: vm.member } : null;
  }

  /** After an in-place update (memory, balloon, variables): the member's record as now applied. */
  updateMember(name: string, u: MemberUpdate): void {
    const r = this.db
      .prepare(
        `UPDATE vms SET member_spec = @spec, spec_hash = @specHash, vars = @vars,
           memory_bytes = COALESCE(@memoryBytes, memory_bytes),
           balloon_bytes = CASE WHEN @setBalloon THEN @balloonBytes ELSE balloon_bytes END
         WHERE name = @name AND member IS NOT NULL`,
      )
      .run({
        name,
        spec: JSON.stringify(u.spec),
        specHash: u.specHash,
        vars: JSON.stringify(u.vars),
        memoryBytes: u.memoryBytes ?? null,
        setBalloon: u.balloonBytes !== undefined ? 1 : 0,
        balloonBytes: u.balloonBytes ?? null,
      });
    if (r.changes !== 1)
      throw new NotFound(
        `VM '${name}' is not a farm member in the inventory`,
        "`farmctl farm status <farm>` lists the members",
      );
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
