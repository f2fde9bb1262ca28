#!/usr/bin/env bash
# The main job, end to end, on this machine: brings up the testbed's host01.farm (a real Ganeti
# cluster with bind, dhcpd, nginx, shorewall and the VM gallifrey, inside namespaces: nothing on
# the real host changes), runs `farmctl clone gallifrey gallifrey-dev` in it, checks the result
# with the host's own tools, and leaves it all up to explore. Run as root from a checkout:
#   bash test/testbed/demo.sh
# Installs what is missing first (Debian packages, npm modules, the build).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TB="bash $ROOT/test/testbed/testbed.sh"
export FARM_TESTBED_DIR=${FARM_TESTBED_DIR:-/tmp/farm-testbed}
S=$FARM_TESTBED_DIR

if [ -t 1 ]; then B=$'\e[1m' G=$'\e[32m' R=$'\e[31m' N=$'\e[0m'; else B="" G="" R="" N=""; fi
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
title() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
FAILED=0
ok() { printf '  %s✓%s %s\n' "$G" "$N" "$*"; }
bad() {
  printf '  %s✗ %s%s\n' "$R" "$*" "$N"
  FAILED=$((FAILED + 1))
}
TIMES=()
timed() { # label, command...
  local t0 label=$1
  shift
  t0=$(now)
  "$@"
  TIMES+=("$(printf '%-38s %6s s' "$label" "$(secs "$t0")")")
}

[ "$(id -u)" = 0 ] || {
  echo "demo.sh: run as root (the testbed uses namespaces, loop devices and mounts)" >&2
  exit 1
}

# ------------------------------------------------------------------ what is missing
need_node() {
  local v
  v=$(node -p 'process.versions.node' 2>/dev/null || true)
  if [ -n "$v" ] && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'; then
    return 0
  fi
  # Debian 13 ships Node.js 20.19; Debian 12's is too old for this project.
  local cand
  cand=$(apt-cache policy nodejs 2>/dev/null | awk '/Candidate:/ {print $2}')
  if dpkg --compare-versions "${cand:-0}" ge 20.19; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
  else
    echo "demo.sh: Node.js >= 20.19 is needed (found ${v:-none}; apt offers ${cand:-none})." >&2
    echo "  Install Node.js 20.19 or later, then run again." >&2
    exit 1
  fi
}

install_missing() {
  bash test/install-deps.sh
  need_node
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  if [ ! -f dist/cli/main.js ] || [ ! -f dist/daemon/main.js ] ||
    [ -n "$(find src templates -newer dist/cli/main.js -print -quit)" ]; then
    npm run build
  fi
}

title "Installing what is missing (Debian packages, npm modules, the build)"
timed "install what is missing" install_missing

title "Bringing up host01.farm in $S"
echo "  Ganeti 3.0 cluster (kvm under TCG), LVM VG 'all', bind, dhcpd, nginx, shorewall,"
echo "  and the VM gallifrey.xivo.vm.farm, all in namespaces: nothing on this machine changes."
timed "testbed up" $TB up

title "farmctl clone gallifrey gallifrey-dev"
CLONE_OUT=$S/log/demo-clone.out
t0=$(now)
set +e
$TB sh "$S/bin/farmctl" clone gallifrey gallifrey-dev | tee "$CLONE_OUT"
rc=${PIPESTATUS[0]}
set -e
TIMES+=("$(printf '%-38s %6s s' "farmctl clone gallifrey gallifrey-dev" "$(secs "$t0")")")
[ "$rc" = 0 ] || {
  echo "farmctl clone failed (exit $rc); the testbed is left up: bash test/testbed/testbed.sh enter" >&2
  exit 1
}
MAC=$(awk '$1 == "MAC" {print $2}' "$CLONE_OUT")

title "Checking the result with host01's own tools"
t0=$(now)
inside() { $TB sh "$@"; }
I=gallifrey-dev.xivo.vm.farm
CTRL=/var/run/ganeti/kvm-hypervisor/ctrl

ip=$(inside dig +short @10.10.60.1 $I || true)
[ "$ip" = 10.10.60.6 ] && ok "bind answers: $I is 10.10.60.6 (dig @10.10.60.1)" ||
  bad "dig @10.10.60.1 $I answered '$ip', not 10.10.60.6"

inside named-checkzone -k fail farm /etc/bind/db.farm >/dev/null && ok "named-checkzone accepts /etc/bind/db.farm" ||
  bad "named-checkzone refuses /etc/bind/db.farm"
inside dhcpd -t -4 -cf /etc/dhcp/dhcpd.conf >/dev/null 2>&1 && ok "dhcpd -t accepts /etc/dhcp/dhcpd.conf" ||
  bad "dhcpd -t refuses /etc/dhcp/dhcpd.conf"
inside nginx -t -q && ok "nginx -t accepts /etc/nginx" || bad "nginx -t refuses /etc/nginx"
inside shorewall check >/dev/null 2>&1 && ok "shorewall check accepts /etc/shorewall" ||
  bad "shorewall check refuses /etc/shorewall"

intact=1
for f in bind/db.farm dhcp/dhcpd.conf shorewall/rules shorewall/params nginx/sites-available/gallifrey.dachary.org; do
  # every line of the seed's file is still there (db.farm: except its SOA serial, bumped)
  missing=$(grep -vxF -f <(inside cat "/etc/$f") "test/fixtures/host01/etc/$f" | grep -v '; Serial$' || true)
  [ -z "$missing" ] || {
    intact=0
    bad "/etc/$f lost lines: $missing"
  }
done
[ $intact = 1 ] && ok "every line the admin wrote in those files is still there"

line=$(inside gnt-instance list --no-headers --separator=' ' --units=m -o name,status,be/memory,nic.macs $I || true)
[[ $line == "$I running 4096 $MAC" && $MAC == 52:54:* ]] && ok "Ganeti runs $I: 4096 MiB, MAC $MAC (gnt-instance list)" ||
  bad "gnt-instance list: '$line'"

marker=$(cat "$S/gallifrey.marker")
status=""
for _ in $(seq 12); do
  status=$(inside timeout 5 socat -u "UNIX-CONNECT:$CTRL/$I.serial" - 2>/dev/null | tr -d '\r' | grep '^STATUS ip=10.10.60.6 ' | tail -1 || true)
  [ -n "$status" ] && break
done
[[ $status == *"disk=${marker// /_}"* ]] &&
  ok "its console: DHCP lease 10.10.60.6, and its disk starts with gallifrey's '$marker'" ||
  bad "its serial console says: '${status:-nothing}'"

balloon=$(printf 'info balloon\n' | inside socat -t2 - "UNIX-CONNECT:$CTRL/$I.monitor" | tr -d '\r' | grep -o 'actual=[0-9]*' | tail -1 || true)
[ "$balloon" = actual=1024 ] && ok "QEMU's balloon: the guest now has 1024 MiB (info balloon)" ||
  bad "info balloon: '$balloon'"

page=""
for _ in $(seq 10); do
  page=$($TB internet curl -sS -m 5 -H 'Host: gallifrey-dev.dachary.org' http://198.51.100.42/ 2>/dev/null || true)
  [[ $page == *ip=10.10.60.6* ]] && break
  sleep 1
done
[[ $page == *ip=10.10.60.6* ]] &&
  ok "from the internet, http://gallifrey-dev.dachary.org (198.51.100.42) reaches the VM through nginx: '$page'" ||
  bad "HTTP from the internet: '$page'"

banner=$($TB internet timeout 8 socat -u TCP:198.51.100.42:22006,connect-timeout=5 - 2>/dev/null | tr -d '\r' || true)
[ "$banner" = SSH-2.0-farmguest ] &&
  ok "from the internet, 198.51.100.42:22006 reaches the VM's port 22 through the shorewall DNAT: '$banner'" ||
  bad "TCP 22006 from the internet: '$banner'"

snaps=$(inside lvs --noheadings -o lv_name all 2>/dev/null | grep -c 'farm-snap-' || true)
[ "$snaps" = 0 ] && ok "no snapshot LV is left (lvs all)" || bad "$snaps snapshot LV(s) left"
src=$(inside gnt-instance list --no-headers -o status gallifrey.xivo.vm.farm || true)
[ "$src" = running ] && ok "the source gallifrey.xivo.vm.farm still runs, untouched" || bad "gallifrey is '$src'"
TIMES+=("$(printf '%-38s %6s s' "checks" "$(secs "$t0")")")

title "Timings"
printf '  %s\n' "${TIMES[@]}"
echo "  (each clone step's time is printed above, after 'done')"

title "host01.farm is still up: explore it"
cat <<EOF
  bash test/testbed/testbed.sh enter        # a root shell inside host01.farm (farmctl, gnt-*, lvs, dig...)
  bash test/testbed/testbed.sh status       # instances, LVs, loop devices, services
  bash test/testbed/testbed.sh internet curl -H 'Host: gallifrey-dev.dachary.org' http://198.51.100.42/
  bash test/testbed/testbed.sh down         # stop and remove everything (namespaces, loops, $S)
EOF
[ $FAILED = 0 ] || {
  printf '\n%s%d check(s) failed%s\n' "$R" "$FAILED" "$N"
  exit 1
}
