// A GuestPort over an in-memory Debian guest: inspect, read, apply the edits to a map of files, so
// tests see what the customize step would leave on the disk. Edits go through one by one, as
// guestfish runs them: a failure injected at the nth leaves the first n-1 done.
import { OperationFailed } from "../../src/api/errors.js";
import type { GuestEdit, GuestOs, GuestPort, GuestSession } from "../../src/ops/ports.js";

export type GuestNode =
  | { kind: "file"; content: string; mode: number; uid: number; gid: number }
  | { kind: "dir"; mode: number }
  | { kind: "symlink"; target: string };

/** A fresh Debian 12 guest as gallifrey's: its hostname, ids, keys and stale network state. */
export function debianGuest(): Map<string, GuestNode> {
  const file = (content: string, mode = 0o644): GuestNode => ({
    kind: "file",
    content,
    mode,
    uid: 0,
    gid: 0,
  });
  return new Map<string, GuestNode>([
    ["/etc/hostname", file("gallifrey\n")],
    [
      "/etc/hosts",
      file(
        "127.0.0.1\tlocalhost\n127.0.1.1\tgallifrey.xivo.vm.farm gallifrey\n\n# The following lines are desirable for IPv6 capable hosts\n::1     localhost ip6-localhost ip6-loopback\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n",
      ),
    ],
    ["/etc/machine-id", file("4f1c0d9e2b7a4c3f8e6d5b4a39281706\n", 0o444)],
    // Debian 12's: a copy dbus-uuidgen --ensure made, not a link.
    ["/var/lib/dbus/machine-id", file("4f1c0d9e2b7a4c3f8e6d5b4a39281706\n")],
    ["/etc/ssh/ssh_host_ed25519_key", file("PRIVATE\n", 0o600)],
    ["/etc/ssh/ssh_host_ed25519_key.pub", file("ssh-ed25519 AAAA root@gallifrey\n")],
    ["/etc/ssh/ssh_host_rsa_key", file("PRIVATE\n", 0o600)],
    ["/etc/ssh/ssh_host_rsa_key.pub", file("ssh-rsa AAAA root@gallifrey\n")],
    ["/etc/ssh/sshd_config", file("Include /etc/ssh/sshd_config.d/*.conf\n")],
    ["/etc/udev/rules.d/70-persistent-net.rules", file('SUBSYSTEM=="net", NAME="eth0"\n')],
    ["/var/lib/dhcp/dhclient.eth0.leases", file("lease {}\n")],
    ["/var/lib/dhcp/dhclient6.eth0.leases", file('default-duid "x";\n')],
    ["/etc/systemd/system", { kind: "dir", mode: 0o755 }],
  ]);
}

const OS: GuestOs = { root: "/dev/sda1", type: "linux", distro: "debian", hostname: "gallifrey" };

/** A glob of the one form the step uses: `*` inside the last segment. */
function matches(glob: string, path: string): boolean {
  const re = new RegExp(
    `^${glob
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join("[^/]*")}$`,
  );
  return re.test(path);
}

export class FakeGuest implements GuestPort {
  /** Each disk's files; a device not here has no Linux (inspect gives null). */
  readonly disks = new Map<string, Map<string, GuestNode>>();
  readonly opened: string[] = [];
  readonly applied: GuestEdit[][] = [];
  /** Set: apply fails at the edit of that index (0: before any). */
  failAt: number | null = null;
  /** Set: close fails (unmount or sync), once. */
  failClose = false;
  open_sessions = 0;
  readonly pid = 424242;

  async open(device: string, onPid?: (pid: number) => void): Promise<GuestSession> {
    this.opened.push(device);
    onPid?.(this.pid);
    this.open_sessions++;
    let closed = false;
    const fs = this.disks.get(device);
    const session: GuestSession = {
      inspect: async () => (fs ? OS : null),
      readFile: async (path) => {
        let node = fs?.get(path);
        if (node?.kind === "symlink") node = fs?.get(node.target);
        return node?.kind === "file" ? node.content : null;
      },
      apply: async (edits) => {
        if (!fs) throw new Error("apply on a disk without a guest");
        this.applied.push(edits);
        edits.forEach((e, i) => {
          if (i === this.failAt)
            throw new OperationFailed(`guestfish: ${e.op} ${e.path}: injected failure`, "test");
          apply(fs, e);
        });
      },
      close: async () => {
        if (!closed) this.open_sessions--;
        closed = true;
        if (!this.failClose) return;
        this.failClose = false;
        throw new OperationFailed("guestfish: umount-all: injected failure", "test");
      },
    };
    return session;
  }

  async prepare() {
    return { ms: 0, cached: true };
  }
}

function apply(fs: Map<string, GuestNode>, e: GuestEdit): void {
  switch (e.op) {
    case "write":
      fs.set(e.path, { kind: "file", content: e.content, mode: e.mode, uid: e.uid, gid: e.gid });
      return;
    case "delete":
      for (const p of [...fs.keys()]) if (matches(e.path, p)) fs.delete(p);
      return;
    case "truncate": {
      const node = fs.get(e.path);
      if (node?.kind === "file") fs.set(e.path, { ...node, content: "" });
      return;
    }
    case "mkdir":
      if (!fs.has(e.path)) fs.set(e.path, { kind: "dir", mode: e.mode });
      return;
    case "symlink":
      fs.set(e.path, { kind: "symlink", target: e.target });
  }
}
