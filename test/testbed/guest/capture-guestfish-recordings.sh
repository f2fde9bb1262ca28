#!/bin/bash
# Re-captures test/recordings/guestfish-<version>-*.txt: what the real guestfish prints for the
# commands src/host/guestfs.ts sends, on a disk from build-disk.sh. Three appliance launches
# (a session, a blank disk, no kernel), each ~15-35 s under TCG. Needs libguestfs-tools, root.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REC=$(cd "$HERE/../../recordings" && pwd)
VER=$(guestfish --version | sed -n 's/^guestfish \([0-9.]*\).*/\1/p')
export LIBGUESTFS_BACKEND=${LIBGUESTFS_BACKEND:-direct}
export LIBGUESTFS_BACKEND_SETTINGS=${LIBGUESTFS_BACKEND_SETTINGS:-force_tcg}
W=$(mktemp -d /tmp/farm-rec-guestfish.XXXXXX)
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
out() { echo "$REC/guestfish-$VER-$1.txt"; }

"$HERE/build-disk.sh" "$W/disk.img" "GALLIFREY-DISK-MARKER 0123456789abcdef" 64 >/dev/null
truncate -s 64M "$W/blank.img"

# A disk that is not there: the listener itself fails, before any launch.
guestfish --listen --rw --format=raw -a /nonexistent/disk.img 2>"$(out listen-missing-disk-stderr)" && exit 1
# One session, as GuestSession drives it: the server's stderr is a file (it outlives the listener).
guestfish --listen --rw --format=raw -a "$W/disk.img" >"$(out listen)" 2>"$W/server.err"
SERVER=$(sed -n 's/^GUESTFISH_PID=\([0-9]*\);.*/\1/p' "$(out listen)")
r() { # recording name, guestfish command and args: stdout to the recording, exit code checked
  local name=$1
  shift
  guestfish --remote="$SERVER" -- "$@" >"$(out "$name")"
}
r run run
r inspect-os inspect-os
r inspect-get-type inspect-get-type /dev/sda1
r inspect-get-distro inspect-get-distro /dev/sda1
r inspect-get-hostname inspect-get-hostname /dev/sda1
r inspect-get-mountpoints inspect-get-mountpoints /dev/sda1
r mount mount /dev/sda1 /
r is-file-true is-file /etc/hosts followsymlinks:true
r is-file-false is-file /etc/no-such-file followsymlinks:true
r read-file-hosts read-file /etc/hosts
r glob-rm-f-none glob rm-f '/etc/no-such-*'
# A failing command: the client exits 1 and says nothing; the server writes the error and exits.
set +e
guestfish --remote="$SERVER" -- chown 1000 1000 /etc/no-such-file >"$(out chown-missing)" 2>"$W/client.err"
echo "exit $?" >>"$W/client.err"
set -e
cp "$W/client.err" "$(out chown-missing-client-stderr)"
for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
cp "$W/server.err" "$(out chown-missing-server-stderr)"
guestfish --remote="$SERVER" -- exit 2>"$(out remote-gone-stderr)" && exit 1
SERVER=""


# No operating system: inspect-os prints nothing.
guestfish --ro --format=raw -a "$W/blank.img" -- run : inspect-os >"$(out inspect-os-none)"
# No kernel for the appliance: /boot hidden in a private mount namespace, a cold cache.
mkdir "$W/cache"
unshare -m -- sh -c 'mount -t tmpfs none /boot && exec "$@"' - \
  env LIBGUESTFS_CACHEDIR="$W/cache" guestfish -a /dev/null run 2>"$(out no-kernel-stderr)" && exit 1
find "$REC" -name "guestfish-$VER-*.txt" -size 0 -delete # an empty stream is an absent file
echo "captured $(ls "$REC"/guestfish-"$VER"-*.txt | wc -l) recordings of guestfish $VER in $REC"
