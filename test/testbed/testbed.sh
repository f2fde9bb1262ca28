#!/bin/bash
# Farm-in-a-box: host01.farm of the seed, as network + mount + UTS namespaces on this machine,
# with a real Ganeti 3.0 cluster (kvm hypervisor under TCG), LVM metadata on a loop device,
# bind, isc-dhcp-server, nginx and shorewall, a second network namespace playing the internet,
# and the source VM gallifrey.xivo.vm.farm. farmctl runs inside with its default paths.
#
#   testbed.sh up          bring it up (~15 s; builds the test guest on first use)
#   testbed.sh down        stop and remove everything it made (also after a failed up)
#   testbed.sh down-all    down every testbed in /tmp (e.g. after an interrupted test run)
#   testbed.sh status      what runs
#   testbed.sh enter       a root shell inside host01.farm (farmctl is on its PATH)
#   testbed.sh sh CMD...   run CMD inside host01.farm
#   testbed.sh farmd [CONFIG]    start another farmd inside (CONFIG as seen inside); prints its PID
#   testbed.sh internet CMD...   run CMD in the "internet" namespace (198.51.100.1)
#
# Everything lives in $FARM_TESTBED_DIR (default /tmp/farm-testbed): the real host's /etc,
# /var, /run, /dev/<vg> and firewall are never written (see test/testbed/README.md).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
S=${FARM_TESTBED_DIR:-/tmp/farm-testbed}
S=${S%/}
FIXTURE=$REPO/test/fixtures/host01/etc
MARK=$S/.farm-testbed
CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LVM_SUPPRESS_FD_WARNINGS=1

# The seed's host: names and addresses (the zone, dhcpd.conf and shorewall params agree).
NODE=host01.farm
CLUSTER=ganeti.farm # "ganeti IN A 10.10.60.2" in db.farm: the cluster IP sits on br0
VG=all
SOURCE=gallifrey.xivo.vm.farm
SOURCE_MAC=52:54:2b:9e:41:07
SOURCE_MEMORY=1G

log() { printf 'testbed: %s\n' "$*" >&2; }
die() {
  log "$*"
  exit 1
}

holder() { cat "$S/holder.pid" 2>/dev/null; }
# Runs a command inside host01.farm with a clean environment (Ganeti's daemons inherit it).
ns() {
  local h
  h=$(holder) || die "no testbed at $S (run: $0 up)"
  nsenter -t "$h" -n -m -u -- env -i PATH="$CLEAN_PATH" HOME=/root LANG=C.UTF-8 \
    LVM_SUPPRESS_FD_WARNINGS=1 TERM="${TERM:-dumb}" "$@"
}
inet() { nsenter -t "$(cat "$S/internet.pid")" -n -- "$@"; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
PHASE_T0=""
PHASE=""
phase() {
  [ -n "$PHASE" ] && log "  $PHASE: $(since "$PHASE_T0") s"
  PHASE=$1
  PHASE_T0=$(now)
  [ -n "$PHASE" ] && echo "$PHASE" >"$S/up.phase"
  # The harness's own test of a failed up's cleanup (test/testbed/testbed.test.ts).
  [ -z "$PHASE" ] || [ "${FARM_TESTBED_FAIL_AT:-}" != "$PHASE" ] || die "failing on purpose at '$PHASE' (FARM_TESTBED_FAIL_AT)"
  return 0
}

# ------------------------------------------------------------------------------------------ down

# A process is gone when /proc has no entry for it or it is a zombie.
alive() { grep -qs '^State:[[:space:]]*[^Z]' "/proc/$1/status"; }

any_alive() {
  local p
  for p in "$@"; do alive "$p" && return 0; done
  return 1
}

# SIGTERM, then SIGKILL after $1 tenths of a second; each process by its PID.
kill_pids() {
  local tenths=$1 p i
  shift
  [ $# -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null || true
  for i in $(seq "$tenths"); do
    any_alive "$@" || return 0
    sleep 0.1
  done
  for p in "$@"; do if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi; done
  for i in $(seq 50); do
    any_alive "$@" || return 0
    sleep 0.1
  done
  log "processes still alive after SIGKILL: $*"
  return 1
}

# Every PID in the testbed's namespaces. A namespace is recognised by its inode (recorded by up
# in ns.ids) AND by the testbed's token (an inode number may be reused once a namespace is gone):
# the token is the alias of `lo` in both network namespaces, and in /etc/farm-testbed.env of the
# mount namespace.
declare -A NS_OK=()
ns_is_ours() { # pid, kind (net|mnt), ns id
  local key="$2 $3" tok
  [ -z "${NS_OK[$key]:-}" ] || return 0
  tok=$(cat "$S/token" 2>/dev/null) || return 1
  case $2 in
  # (read whole, then grep: with pipefail, grep -q quitting early can SIGPIPE the lister into a "no")
  net) grep -qF "farm-testbed $tok" <<<"$(nsenter --net="/proc/$1/ns/net" ip -o link show lo 2>/dev/null)" ;;
  mnt) grep -qsxF "FARM_TESTBED_TOKEN=$tok" "/proc/$1/root/etc/farm-testbed.env" ;;
  esac || return 1 # (not cached: the process may just have exited; ask the next one)
  NS_OK[$key]=yes
}

ns_pids() {
  local ids p n m
  ids=$(cat "$S/ns.ids" 2>/dev/null) || return 0
  [ -n "$ids" ] || return 0
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    n=$(readlink "/proc/$p/ns/net" 2>/dev/null) || continue
    m=$(readlink "/proc/$p/ns/mnt" 2>/dev/null) || continue
    if { grep -qxF "$n" <<<"$ids" && ns_is_ours "$p" net "$n"; } ||
      { grep -qxF "$m" <<<"$ids" && ns_is_ours "$p" mnt "$m"; }; then
      echo "$p"
    fi
  done
}

# Loop devices of the testbed: those whose backing file is in $S (a loop detached earlier may
# have been reused by someone else since: the records in $S/loops are not enough).
our_loops() {
  losetup -l -n -O NAME,BACK-FILE 2>/dev/null | awk -v s="$S/" 'index($2, s) == 1 {print $1}'
}

down() {
  if [ ! -e "$MARK" ]; then
    log "nothing to take down at $S"
    return 0
  fi
  local t0 f pid pids=() loops i ours left=0
  t0=$(now)
  # 1. QEMU instances, by Ganeti's pid files (a kill, not an ACPI shutdown: this is a teardown).
  pids=()
  ours=$(ns_pids)
  for f in "$S"/run/ganeti/kvm-hypervisor/pid/*; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if grep -q "qemu-system.*$(basename "$f")" <<<"$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" &&
      grep -qxF "$pid" <<<"$ours"; then
      log "stopping QEMU of $(basename "$f") (pid $pid)"
      pids+=("$pid")
    fi
  done
  kill_pids 50 "${pids[@]}" || left=1
  # 2. Everything else that runs in the namespaces: Ganeti's daemons, named, dhcpd, nginx, the
  #    holders. Shorewall's rules live in the network namespace and go with it.
  # shellcheck disable=SC2207
  pids=($(ns_pids))
  if [ ${#pids[@]} -gt 0 ]; then
    log "stopping ${#pids[@]} processes of the namespaces: ${pids[*]}"
    kill_pids 50 "${pids[@]}" || left=1
  fi
  # 3. Loop devices (the PV and the stand-in's activations), once nothing holds them.
  for i in 1 2 3 4 5 6 7 8 9 10; do
    # shellcheck disable=SC2207
    loops=($(our_loops))
    [ ${#loops[@]} -gt 0 ] || break
    [ "$i" = 1 ] || sleep 0.3
    for f in "${loops[@]}"; do losetup -d "$f" 2>/dev/null || true; done
  done
  # shellcheck disable=SC2207
  loops=($(our_loops))
  if [ ${#loops[@]} -gt 0 ]; then
    log "loop devices still attached: ${loops[*]}"
    left=1
  fi
  if [ $left = 1 ]; then
    log "down is incomplete; $S is kept: look, then run down again"
    return 1
  fi
  # 4. /dev/all, if up made it and no other mount namespace (another testbed) uses it.
  if [ -e "$S/created-dev-all" ] && [ -d /dev/all ]; then
    # (a process may exit while cat reads: its error is not an answer)
    if ! grep -q . <<<"$(cat /proc/[0-9]*/mountinfo 2>/dev/null | awk '$5 == "/dev/all"' || true)"; then
      rmdir /dev/all 2>/dev/null || log "/dev/all is not empty; left in place"
    fi
  fi
  # 5. The scratch directory (kept with FARM_TESTBED_KEEP=1, e.g. to read the logs).
  if [ -n "${FARM_TESTBED_KEEP:-}" ]; then
    rm -f "$S/disks/pv.img" "$S/holder.pid" "$S/internet.pid" "$MARK"
    touch "$S/.farm-testbed-kept"
    log "down in $(since "$t0") s; logs kept in $S/log"
  else
    rm -rf --one-file-system "$S"
    log "down in $(since "$t0") s"
  fi
}

# -------------------------------------------------------------------------------------------- up

check_prereqs() {
  [ "$(id -u)" = 0 ] || die "must run as root (namespaces, loop devices, mounts)"
  local missing=() c
  for c in gnt-cluster gnt-instance lvm named rndc rndc-confgen dhcpd nginx shorewall \
    qemu-system-x86_64 socat unshare nsenter losetup fallocate ip dig curl; do
    command -v "$c" >/dev/null || missing+=("$c")
  done
  [ -d /usr/share/ganeti/os/debootstrap ] || missing+=("ganeti-instance-debootstrap")
  [ ${#missing[@]} -eq 0 ] || die "missing: ${missing[*]} (run: bash test/install-deps.sh)"
  case "$S/" in
  /etc/* | /var/* | /root/* | /srv/* | /run/* | /usr/* | /dev/* | /proc/* | /sys/*)
    die "FARM_TESTBED_DIR=$S is under a directory the testbed overlays; use e.g. /tmp/farm-testbed" ;;
  *[,:\ ]*) die "FARM_TESTBED_DIR=$S must not contain ',', ':' or spaces (overlay options)" ;;
  esac
  if [ -e /dev/all ] && [ ! -d /dev/all ]; then die "/dev/all exists and is not a directory"; fi
}

render() { # template, then KEY=value pairs
  local t=$1 k
  t=$(cat "$t")
  shift
  for k in "$@"; do t=${t//@${k%%=*}@/${k#*=}}; done
  printf '%s\n' "$t"
}

prepare_scratch() {
  local d c
  mkdir -p "$S"
  touch "$MARK"
  for d in etc var root srv; do mkdir -p "$S/ovl/$d/upper" "$S/ovl/$d/work"; done
  mkdir -p "$S"/{etc,log/nginx,log/ganeti,run/ganeti,state,disks,standin-sbin,bin,guest}
  : >"$S/loops"
  # The seed host's configs, as its admin left them (gallifrey already in each).
  cp -a "$FIXTURE"/{bind,dhcp,nginx,shorewall} "$S/etc/"
  mkdir -p "$S/etc/farmd" "$S/etc/nginx/modules-enabled" "$S/etc/nginx/conf.d"
  cp "$HERE/conf/named.conf" "$S/etc/bind/named.conf"
  rndc-confgen -a -k rndc-key -c "$S/etc/bind/rndc.key" >/dev/null 2>&1
  # libguestfs' appliance is built once per checkout (~1 min under TCG), not once per testbed.
  mkdir -p "$REPO/test/.cache/guestfs"
  render "$HERE/conf/farmd.toml.in" STATE_DIR="$S/state" SERVICES="$HERE/services" \
    GUESTFS_CACHE="$REPO/test/.cache/guestfs" >"$S/etc/farmd/farmd.toml"
  # Single files of the namespace's /etc (in the overlay's upper layer).
  local E=$S/ovl/etc/upper
  mkdir -p "$E/default" "$E/lvm"
  cp "$HERE/conf/hosts" "$E/hosts"
  cp "$HERE/conf/resolv.conf" "$E/resolv.conf"
  cp "$HERE/conf/default-ganeti" "$E/default/ganeti"
  echo host01 >"$E/hostname"
  od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$S/token"
  printf 'FARM_TESTBED_DIR=%s\nFARM_TESTBED_TOKEN=%s\n' "$S" "$(cat "$S/token")" >"$E/farm-testbed.env"
  for c in lvcreate lvremove lvrename lvchange; do ln -s "$HERE/lvm-standin/lvm-standin" "$S/standin-sbin/$c"; done
  printf '#!/bin/sh\nexec %s %s/dist/cli/main.js "$@"\n' "$(command -v node)" "$REPO" >"$S/bin/farmctl"
  chmod +x "$S/bin/farmctl"
}

start_namespaces() {
  local i
  if [ ! -e /dev/all ]; then
    mkdir /dev/all # the mount point of the namespace's private tmpfs; removed by down
    touch "$S/created-dev-all"
  fi
  setsid unshare --net --mount --uts --fork bash "$HERE/lib/ns-init.sh" "$S" \
    </dev/null >"$S/log/ns-init.log" 2>&1 &
  setsid unshare --net --fork bash -c 'echo $$ >"$1/internet.pid"; exec sleep infinity' _ "$S" \
    </dev/null >/dev/null 2>&1 &
  for i in $(seq 100); do
    [ -e "$S/holder.ready" ] && [ -s "$S/internet.pid" ] && break
    sleep 0.05
  done
  [ -s "$S/internet.pid" ] || die "the internet namespace did not start"
  # Recorded at once: down finds every process of the namespaces by these, even after a crash.
  { readlink "/proc/$(cat "$S/internet.pid")/ns/net"; } >>"$S/ns.ids"
  inet ip link set dev lo alias "farm-testbed $(cat "$S/token")"
  [ -e "$S/holder.ready" ] || die "host01's namespace setup failed: $(tail -3 "$S/log/ns-init.log")"
  {
    readlink "/proc/$(holder)/ns/net"
    readlink "/proc/$(holder)/ns/mnt"
  } >>"$S/ns.ids"
  ns ip link set dev lo alias "farm-testbed $(cat "$S/token")"
}

start_network() {
  local ipid
  ipid=$(cat "$S/internet.pid")
  ns ip link set lo up
  # br0: the VM network (NIC mode bridged), also Ganeti's master netdev.
  ns ip link add br0 type bridge
  ns ip addr add 10.10.60.1/24 dev br0
  ns ip link set br0 up
  # eth0: the public side, a veth whose peer is the internet namespace's eth0.
  ns ip link add eth0 type veth peer name eth0 netns "$ipid"
  ns ip addr add 198.51.100.42/24 dev eth0
  ns ip link set eth0 up
  inet ip link set lo up
  inet ip addr add 198.51.100.1/24 dev eth0
  inet ip link set eth0 up
}

start_lvm() {
  local pv marker L=$S/log/testbed-lvm.log
  truncate -s 40G "$S/disks/pv.img" # sparse; Ganeti wants a VG of at least 20 GiB
  pv=$(losetup -f --show "$S/disks/pv.img")
  echo "$pv" >"$S/pv.loop"
  render "$HERE/conf/lvm.conf.in" PV_LOOP="$pv" >"$S/ovl/etc/upper/lvm/lvm.conf"
  ns pvcreate -q "$pv" >>"$L" 2>&1
  # vgcreate refuses a name whose /dev/<vg> exists, and /dev/all is the mount point of the
  # namespace's private tmpfs: let this one command see the PV through a private device dir.
  local n=${pv#/dev/} d=/run/farm-testbed-vgcreate
  ns mkdir -p $d
  local hex
  read -ra hex < <(stat -c '%t %T' "$pv")
  ns mknod "$d/$n" b $((16#${hex[0]})) $((16#${hex[1]}))
  ns vgcreate -q --config "devices { dir = \"$d\" scan = [ \"$d\" ] global_filter = [ \"a|^$d/$n\$|\", \"r|.*|\" ] }" \
    "$VG" "$d/$n" >>"$L" 2>&1
  ns rm -rf $d
  # The source VM's disk, as its admin made it: 1 GiB holding a mini Debian root (build-disk.sh),
  # its first line a marker unique to this testbed (in the MBR's boot code area).
  ns lvcreate -q --yes --size 1G --name gallifrey "$VG" >>"$L" 2>&1
  marker="GALLIFREY-DISK-MARKER $(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  echo "$marker" >"$S/gallifrey.marker"
  bash "$HERE/guest/build-disk.sh" "$S/disks/gallifrey.img" "$marker" 1024 >>"$L" 2>&1 ||
    die "build-disk.sh failed: $(tail -3 "$L")"
  ns dd if="$S/disks/gallifrey.img" of=/dev/$VG/gallifrey bs=4M conv=notrunc,fsync status=none
  rm -f "$S/disks/gallifrey.img"
}

start_services() {
  local i
  # Daemons get no stdio of ours: a caller reading our output (vitest) would wait for them.
  ns named -c /etc/bind/named.conf </dev/null >>"$S/log/named.out" 2>&1
  for i in $(seq 100); do
    [ "$(ns dig +short +time=1 +tries=1 @10.10.60.1 $NODE 2>/dev/null)" = 10.10.60.1 ] && break
    sleep 0.1
  done
  [ "$(ns dig +short @10.10.60.1 $NODE)" = 10.10.60.1 ] || die "named does not answer for $NODE"
  ns "$HERE/services/dhcpd-restart" </dev/null >>"$S/log/dhcpd.out" 2>&1 ||
    die "dhcpd did not start: $(tail -5 "$S/log/dhcpd.out")"
  ns shorewall -q start </dev/null >"$S/log/shorewall-start.out" 2>&1 ||
    die "shorewall start failed: $(tail -5 "$S/log/shorewall-start.out")"
  ns nginx </dev/null >>"$S/log/nginx.out" 2>&1 || die "nginx did not start: $(tail -5 "$S/log/nginx.out")"
}

start_ganeti() {
  local G=$S/guest
  ns gnt-cluster init \
    --enabled-hypervisors=kvm \
    --enabled-disk-templates=plain --ipolicy-disk-templates=plain --vg-name="$VG" \
    --no-etc-hosts --no-ssh-init \
    --master-netdev=br0 \
    --nic-parameters=mode=bridged,link=br0 \
    --hypervisor-parameters="kvm:kvm_path=/usr/bin/qemu-system-x86_64,kvm_flag=disabled,kernel_path=$G/vmlinuz,initrd_path=$G/initrd.gz,kernel_args=console=ttyS0 quiet,vnc_bind_address=,serial_console=true" \
    --mac-prefix=52:54:00 \
    "$CLUSTER" </dev/null >"$S/log/gnt-cluster-init.out" 2>&1 ||
    die "gnt-cluster init failed: $(tail -5 "$S/log/gnt-cluster-init.out")"
}

add_source_vm() {
  # As the admin did by hand: adopt the LV (Ganeti renames it <uuid>.disk0), then start.
  ns gnt-instance add -n "$NODE" -B memory="$SOURCE_MEMORY" -o debootstrap+default -t plain \
    --disk 0:adopt=gallifrey --no-install --net 0:mac="$SOURCE_MAC" "$SOURCE" \
    </dev/null >"$S/log/gnt-instance-add-gallifrey.out" 2>&1 ||
    die "adopting gallifrey failed: $(tail -5 "$S/log/gnt-instance-add-gallifrey.out")"
  ns gnt-instance start "$SOURCE" </dev/null >"$S/log/gnt-instance-start-gallifrey.out" 2>&1 ||
    die "starting gallifrey failed: $(tail -5 "$S/log/gnt-instance-start-gallifrey.out")"
}

# GET /v1/health on socket $1 answers with pid $2.
farmd_answers() {
  ns curl -sf --max-time 2 --unix-socket "$1" http://farmd/v1/health 2>/dev/null |
    grep -q "\"pid\":$2[,}]"
}

# Starts a farmd inside host01.farm (as systemd would on the seed's host), waits for its socket;
# prints its PID. With a config path (as seen inside), a second farmd for that config.
start_farmd() {
  local cfg=${1:-} sock=/run/farmd/farmd.sock name=farmd pid i
  [ -f "$REPO/dist/daemon/main.js" ] || die "farmd is not built: run npm run build"
  if [ -n "$cfg" ]; then
    name=farmd-$(basename "$cfg" .toml)
    sock=$(ns sed -n 's/^socket *= *"\(.*\)"/\1/p' "$cfg" | head -1)
    sock=${sock:-/run/farmd/farmd.sock}
  fi
  # A simple command in the background (not the ns function): $! is then farmd's own PID, and no
  # subshell of ours lingers holding our stdout.
  nsenter -t "$(holder)" -n -m -u -- env -i PATH="$CLEAN_PATH" HOME=/root LANG=C.UTF-8 \
    setsid "$(command -v node)" "$REPO/dist/daemon/main.js" ${cfg:+--config "$cfg"} \
    </dev/null >>"$S/log/$name.log" 2>&1 &
  pid=$!
  # Ready when this farmd answers on the socket (after its crash recovery): a socket file alone
  # may be the one a killed farmd left behind.
  for i in $(seq 400); do
    farmd_answers "$sock" "$pid" && break
    alive "$pid" || die "$name exited: $(tail -3 "$S/log/$name.log")"
    sleep 0.05
  done
  farmd_answers "$sock" "$pid" || die "$name does not answer on $sock: $(tail -3 "$S/log/$name.log")"
  echo "$pid" >"$S/$name.pid"
  echo "$pid"
}

up() {
  check_prereqs
  if [ -e "$MARK" ]; then
    log "a testbed is already at $S: taking it down first"
    down
  fi
  # What a kept (FARM_TESTBED_KEEP) testbed left: its logs. Anything else is not ours to clear.
  [ ! -e "$S/.farm-testbed-kept" ] || rm -rf --one-file-system "$S"
  if [ -d "$S" ] && [ -n "$(ls -A "$S")" ]; then
    die "$S is not empty and holds no testbed: choose another FARM_TESTBED_DIR"
  fi
  local t0 guest
  t0=$(now)
  mkdir -p "$S" && touch "$MARK"
  trap 'on_up_exit $?' EXIT
  phase "guest kernel+initramfs"
  guest=$(bash "$HERE/guest/build-guest.sh")
  phase "scratch dir"
  prepare_scratch
  cp "$guest/vmlinuz" "$guest/initrd.gz" "$S/guest/"
  phase "namespaces"
  start_namespaces
  start_network
  phase "LVM (VG $VG on a sparse 40G loop file)"
  start_lvm
  phase "named, dhcpd, shorewall, nginx"
  start_services
  phase "gnt-cluster init"
  start_ganeti
  phase "source VM $SOURCE"
  add_source_vm
  phase "farmd"
  start_farmd >/dev/null
  phase ""
  trap - EXIT
  rm -f "$S/up.phase"
  touch "$S/up.done"
  log "up in $(since "$t0") s: $S"
}

on_up_exit() {
  trap - EXIT
  [ "$1" != 0 ] || return 0
  log "up FAILED during: $(cat "$S/up.phase" 2>/dev/null || echo '?') (logs: $S/log)"
  if [ -z "${FARM_TESTBED_KEEP_FAILED:-}" ]; then
    FARM_TESTBED_KEEP=1 down
  fi
  exit 1
}

status() {
  if [ ! -e "$MARK" ]; then
    echo "no testbed at $S"
    return 1
  fi
  local h
  h=$(holder || true)
  if [ -n "$h" ] && alive "$h"; then echo "host01.farm: namespaces held by pid $h"; else
    echo "host01.farm: NOT running"
    return 1
  fi
  echo "--- Ganeti instances"
  ns gnt-instance list -o name,status,oper_ram,be/memory,nic.macs,nic.ips,disk_template || true
  echo "--- logical volumes of $VG"
  ns lvs -o lv_name,lv_size,lv_uuid,lv_tags "$VG" 2>/dev/null || true
  echo "--- loop devices"
  losetup -l -O NAME,OFFSET,SIZELIMIT,BACK-FILE | awk -v s="$S/" 'NR == 1 || index($4, s) == 1'
  echo "--- services"
  local f
  for f in named/named.pid dhcpd.pid nginx.pid; do
    pid=$(ns cat "/run/$f" 2>/dev/null || true)
    echo "${f%%[./]*}: ${pid:-not running}"
  done
  ns shorewall status 2>/dev/null | grep -i 'shorewall is' || true
}

enter() {
  local rc=$S/bin/enter.rc
  cat >"$rc" <<EOF
PS1='[host01.farm testbed] \w# '
PATH=$S/bin:$CLEAN_PATH
cd /
echo "Inside host01.farm (exit to leave). Try: farmctl clone --dry-run gallifrey gallifrey-qa;"
echo "  gnt-instance list; lvs all; dig @10.10.60.1 gallifrey-dev.xivo.vm.farm; cat /etc/bind/db.farm"
echo "  socat - UNIX-CONNECT:/var/run/ganeti/kvm-hypervisor/ctrl/gallifrey-dev.xivo.vm.farm.serial"
echo "The internet side: bash $0 internet curl -H 'Host: gallifrey-dev.dachary.org' http://198.51.100.42/"
EOF
  ns bash --rcfile "$rc" -i
}

case "${1:-}" in
up) up ;;
down) down ;;
down-all)
  # Every testbed of this machine's /tmp (the default one and the tests' /tmp/farm-e2e-*), e.g.
  # after an interrupted test run.
  rc=0
  for m in /tmp/farm-testbed/.farm-testbed /tmp/farm-e2e-*/.farm-testbed; do
    [ -e "$m" ] || continue
    FARM_TESTBED_DIR=$(dirname "$m") bash "$0" down || rc=1
  done
  exit $rc
  ;;
status) status ;;
enter) enter ;;
sh)
  shift
  # farmctl is on the PATH here as in `enter`: the README's commands work either way.
  ns env PATH="$S/bin:$CLEAN_PATH" "$@"
  ;;
farmd)
  shift
  start_farmd "$@"
  ;;
internet)
  shift
  [ -e "$S/internet.pid" ] || die "no testbed at $S"
  inet "$@"
  ;;
*)
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
