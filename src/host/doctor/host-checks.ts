// The host's side of a clone: Ganeti and its node, the VG, the monitor dir, farmd's socket, the throttle.
import { existsSync, statSync } from "node:fs";
import { fail, ok, warn, type DoctorCheck } from "../../api/doctor.js";
import type { Lvm } from "../lvm.js";
import type { Runner } from "../runner.js";
import type { ThrottleMechanism } from "../throttle/types.js";
import { firstLine } from "./tools.js";

/** `gnt-node list --no-headers -o name`: one node name a line. */
export const parseNodeNames = (stdout: string): string[] =>
  stdout
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

export const NODE_LIST = ["gnt-node", "list", "--no-headers", "-o", "name"];

export async function checkGanetiNode(runner: Runner, node: string): Promise<DoctorCheck> {
  const id = "ganeti node";
  const r = await runner.run(NODE_LIST, { readOnly: true, allowFailure: true, timeoutMs: 60_000 });
  if (r.exitCode !== 0)
    return fail(
      id,
      `Ganeti does not answer: ${firstLine(r.stderr + r.stdout)}`,
      "start Ganeti's daemons (`systemctl start ganeti`) on the master; `gnt-cluster verify` says more",
    );
  const nodes = parseNodeNames(r.stdout);
  if (!nodes.includes(node))
    return fail(
      id,
      `[ganeti] node '${node}' is not a node of the cluster (its nodes: ${nodes.join(", ") || "none"})`,
      `set [ganeti] node in farmd.toml to one of: ${nodes.join(", ")}`,
    );
  return ok(
    id,
    `${node} is a node of the cluster (${nodes.length} node${nodes.length === 1 ? "" : "s"})`,
  );
}

export async function checkVg(lvm: Lvm, vg: string): Promise<DoctorCheck> {
  const id = "lvm vg";
  try {
    const info = await lvm.vgInfo(vg);
    const detail = `'${vg}': ${gib(info.freeBytes)} free of ${gib(info.sizeBytes)}`;
    if (info.freeBytes === 0)
      return warn(
        id,
        detail,
        "free space in the VG (or extend it): a clone needs its disk + the snapshot",
      );
    return ok(id, detail);
  } catch (err) {
    return fail(
      id,
      `volume group '${vg}': ${(err as Error).message}`,
      "set [lvm] vg in farmd.toml to the VG of the VMs' disks (`vgs` lists them)",
    );
  }
}

const gib = (n: number): string => `${(n / 2 ** 30).toFixed(1)} GiB`;

export function checkMonitorDir(dir: string): DoctorCheck {
  const id = "ganeti monitor_dir";
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    return fail(
      id,
      `${dir} does not exist`,
      "set [ganeti] monitor_dir to Ganeti's KVM control dir (it holds <instance>.monitor/.qmp; Ganeti makes it at the first start)",
    );
  return ok(id, `${dir} (farmctl speaks HMP/QMP on its sockets itself: no socat needed)`);
}

/** The socket farmd made: its mode (0660 by farmd) and group (socket_group, else root's). */
export function checkSocket(
  socket: string,
  group: string | undefined,
  gid: number | undefined,
): DoctorCheck {
  const id = "farmd socket";
  let st;
  try {
    st = statSync(socket);
  } catch {
    return fail(
      id,
      `${socket} does not exist`,
      "start farmd (`systemctl start farmd`, see farmd(8))",
    );
  }
  if (!st.isSocket()) return fail(id, `${socket} is not a socket`, "set socket in farmd.toml");
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  const detail = `${socket}: mode ${mode}, group ${group ?? "root"} (gid ${st.gid})`;
  if ((st.mode & 0o007) !== 0)
    return fail(id, detail, "restart farmd: it makes its socket 0660 (anyone can talk to it now)");
  if (group !== undefined && gid === undefined)
    return fail(
      id,
      `socket_group '${group}' is not a group on this host`,
      `groupadd --system ${group}`,
    );
  if (gid !== undefined && st.gid !== gid)
    return fail(id, detail, `restart farmd: socket_group says ${group} (gid ${gid})`);
  if (group === undefined)
    return ok(id, `${detail}: only root may use farmctl; set socket_group to let a group in`);
  return ok(id, detail);
}

/** Which mechanism a limited copy would be held by; the limit itself is [copy] bwlimit. */
export function checkThrottle(mechanism: ThrottleMechanism, limitBytesPerSec: number): DoctorCheck {
  const id = "copy throttle";
  const why = "why" in mechanism && mechanism.why ? ` (${String(mechanism.why)})` : "";
  const by = `${mechanism.name}${why}`;
  if (limitBytesPerSec === 0)
    return ok(
      id,
      `no [copy] bwlimit: copies run at idle I/O priority only; a limit would be held by ${by}`,
    );
  const rate = `${(limitBytesPerSec / 2 ** 20).toFixed(0)} MiB/s`;
  if (mechanism.name === "pacing")
    return warn(
      id,
      `${rate} held by ${by}`,
      "farmd paces dd itself; a kernel limit needs systemd or cgroup io",
    );
  return ok(id, `${rate} held by ${by}`);
}
