#!/bin/bash
# Re-captures test/recordings/qemu-<major.minor>-*.txt: the exact bytes QEMU's HMP and QMP
# sockets send (escapes, CRLF, events), from a guest with a balloon driver, a paused QEMU with a
# balloon device but no guest, and a QEMU without a balloon device. Needs qemu-system-x86_64, socat.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REC=$(cd "$HERE/../../recordings" && pwd)
GUEST=$("$HERE/build-guest.sh")
VER=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\.[0-9]*\).*/\1/p')
W=$(mktemp -d /tmp/farm-rec.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

start() { # name, extra qemu args...
  local n=$1
  shift
  qemu-system-x86_64 -accel tcg -machine q35 -m 512 -display none -nodefaults "$@" \
    -monitor unix:"$W/$n.monitor",server,nowait -qmp unix:"$W/$n.qmp",server,nowait \
    -daemonize -pidfile "$W/$n.pid"
  PIDS+=("$(cat "$W/$n.pid")")
}
start guest -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initrd.gz" -append "console=ttyS0 quiet panic=-1" \
  -serial file:"$W/console.log" -no-reboot -device virtio-balloon-pci,id=balloon0
start paused -S -device virtio-balloon-pci,id=balloon0
start nodev -S
for _ in $(seq 300); do grep -q GUEST-READY "$W/console.log" 2>/dev/null && break; sleep 0.1; done
grep -q GUEST-READY "$W/console.log" || { echo "guest did not boot" >&2; exit 1; }

# socat -t1: keep reading 1 s after the command was sent, so the whole reply and prompt arrive.
hmp() { printf '%s\n' "$2" | socat -t1 - unix:"$W/$1.monitor" >"$REC/qemu-$VER-$3.txt"; }
hmp guest "info balloon" hmp-info-balloon
hmp guest "balloon 256" hmp-balloon
sleep 1
hmp guest "info balloon" hmp-info-balloon-256
hmp guest "info ballon" hmp-unknown-command
hmp paused "balloon 256" hmp-balloon-paused
hmp paused "info balloon" hmp-info-balloon-paused
hmp nodev "balloon 256" hmp-balloon-no-device
hmp nodev "info balloon" hmp-info-balloon-no-device

qmp() { # instance, case, then lines and sleeps: events arrive while the guest deflates
  local n=$1 c=$2
  shift 2
  (for a in "$@"; do case $a in sleep*) $a ;; *) printf '%s\n' "$a" ;; esac; done) |
    socat -t1 - unix:"$W/$n.qmp" >"$REC/qemu-$VER-$c.txt"
}
CAPS='{"execute":"qmp_capabilities"}'
qmp guest qmp-balloon "$CAPS" '{"execute":"query-balloon"}' \
  '{"execute":"balloon","arguments":{"value":402653184},"id":"farm-cmd"}' "sleep 1.5" \
  '{"execute":"query-balloon","id":"farm-cmd"}'
qmp guest qmp-errors "$CAPS" '{"execute":"no-such-command"}' '{"execute":"balloon","arguments":{"value":0}}'
qmp paused qmp-balloon-paused "$CAPS" '{"execute":"balloon","arguments":{"value":268435456}}' "sleep 1" \
  '{"execute":"query-balloon"}'
qmp nodev qmp-balloon-no-device "$CAPS" '{"execute":"query-balloon"}' \
  '{"execute":"balloon","arguments":{"value":268435456}}'
ls -l "$REC"/qemu-"$VER"-*.txt >&2
