#!/bin/bash
# The seed's clone by hand (seeds/002: "cloning the gallifrey VM"), command for command, as the
# baseline of clone-time.bench.ts; run inside the testbed's host01.farm. `do` clones, `undo` puts
# the host back (instance and LV removed, the files' bytes restored from `do`'s copies, the zone's
# serial bumped above the one served). The shorewall `sleep 30 && shorewall clear` safety net is
# left out, and the balloon is waited for (`info balloon`) as farmctl waits for it.
#   hand-clone.sh do   NAME SOURCE_LV SIZE_BYTES IP MAC SSH_PORT MEMORY_MIB BALLOON_MIB WEB SERVICES BACKUP
#   hand-clone.sh undo NAME BACKUP SERVICES
set -euo pipefail

VG=all
GROUP=xivo
DOMAIN=vm.farm
NODE=host01.farm
OS=debootstrap+default
MONITOR_DIR=/var/run/ganeti/kvm-hypervisor/ctrl
FILES=(/etc/bind/db.farm /etc/dhcp/dhcpd.conf /etc/shorewall/params /etc/shorewall/rules)

# The zone's serial, one up (bind serves a zone only when its serial went up).
bump_serial() {
  local serial
  serial=$(grep -oE '[0-9]{10}[[:space:]]*; Serial' /etc/bind/db.farm | grep -oE '^[0-9]{10}')
  sed -i -E "s/^([[:space:]]*)$serial([[:space:]]*; Serial)/\1$((serial + 1))\2/" /etc/bind/db.farm
}

# "phase NAME <epoch ms>" on stdout: where the hand clone's time went, for the bench's log.
phase() { echo "phase $1 $(date +%s%3N)"; }

monitor() { echo "$2" | socat - "unix:$MONITOR_DIR/$1.monitor"; }

do_clone() {
  local name=$1 source_lv=$2 size=$3 ip=$4 mac=$5 port=$6 memory=$7 balloon=$8 web=$9
  local services=${10} backup=${11}
  local fqdn=$name.$GROUP.$DOMAIN
  local var
  var=VM_$(echo "${name}_$GROUP" | tr 'a-z-' 'A-Z_')
  mkdir -p "$backup"
  for f in "${FILES[@]}"; do cp -a "$f" "$backup/$(basename "$f")"; done

  phase disk
  lvcreate --snapshot --size 1G --name hand-snap "/dev/$VG/$source_lv"
  lvcreate --yes --size "${size}b" --name "$name" "$VG"
  ionice -c3 dd if="/dev/$VG/hand-snap" of="/dev/$VG/$name" bs=1024k
  lvremove -f "$VG/hand-snap"

  phase dns+dhcp
  printf '%s.%s.vm\tIN\tA\t%s\n' "$name" "$GROUP" "$ip" >>/etc/bind/db.farm
  bump_serial
  cat >>/etc/dhcp/dhcpd.conf <<EOF
host $fqdn {
        hardware ethernet $mac;
        fixed-address $fqdn;
        option subnet-mask 255.255.255.0;
    }
EOF
  rndc reload farm
  # The admin checks the name before going on: Ganeti and dhcpd resolve it.
  until getent hosts "$fqdn" >/dev/null; do sleep 0.25; done
  "$services/dhcpd-restart"

  phase adopt
  gnt-instance add -n "$NODE" -B "memory=${memory}M" -o "$OS" -t plain --disk "0:adopt=$name" \
    --no-install --net "0:mac=$mac" "$fqdn"

  phase firewall
  printf 'DNAT\t\tnet\t\tloc:$%s:22\ttcp\t%s\t-\t$IP_FAILOVER\n' "$var" "$port" >>/etc/shorewall/rules
  printf '%s=%s\n' "$var" "$ip" >>/etc/shorewall/params
  shorewall reload

  phase start
  gnt-instance start "$fqdn"
  phase balloon
  monitor "$fqdn" "balloon $balloon" >/dev/null
  # Waits as farmctl does: until the guest gave the memory back (its driver loads during the boot).
  local actual=""
  until [ -n "$actual" ] && [ "$actual" -le "$balloon" ]; do
    sleep 0.25
    actual=$(monitor "$fqdn" "info balloon" | grep -oE 'actual=[0-9]+' | cut -d= -f2 || true)
  done

  phase proxy
  cat >"/etc/nginx/sites-available/$web" <<EOF
server {
 listen 80;
 server_name $web;
 access_log  /var/log/nginx/$web.access.log;

 location / {
  proxy_pass   http://$fqdn;
 }
}
EOF
  ln -s "../sites-available/$web" "/etc/nginx/sites-enabled/$web"
  nginx -s reload
  phase end
}

undo_clone() {
  local name=$1 backup=$2 services=$3
  local fqdn=$name.$GROUP.$DOMAIN
  # Lists read whole first: with pipefail, grep -q quitting at its match can SIGPIPE the lister
  # and turn a found name into "not there" (the instance was then left running).
  local names
  names=$(gnt-instance list --no-headers -o name)
  if grep -qx "$fqdn" <<<"$names"; then
    gnt-instance shutdown --timeout=0 "$fqdn"
    gnt-instance remove -f "$fqdn" # the adopted LV goes with it
  fi
  local lv
  names=$(lvs --noheadings -o lv_name "$VG")
  for lv in hand-snap "$name"; do
    if grep -qx "[[:space:]]*$lv" <<<"$names"; then lvremove -f "$VG/$lv"; fi
  done
  rm -f /etc/nginx/sites-enabled/*"$name"* /etc/nginx/sites-available/*"$name"*
  for f in "${FILES[@]}"; do
    if [ -e "$backup/$(basename "$f")" ]; then cat "$backup/$(basename "$f")" >"$f"; fi
  done
  # The records are back; bind serves them only with a serial above the one it served.
  local served
  served=$(dig +short @127.0.0.1 SOA farm | awk '{print $3}')
  sed -i -E "s/^([[:space:]]*)[0-9]{10}([[:space:]]*; Serial)/\1$((served + 1))\2/" /etc/bind/db.farm
  rndc reload farm
  "$services/dhcpd-restart"
  shorewall reload
  nginx -s reload
  rm -rf "$backup"
}

case "${1:-}" in
  do) shift && do_clone "$@" ;;
  undo) shift && undo_clone "$@" ;;
  *)
    echo "usage: $0 do NAME SOURCE_LV SIZE_BYTES IP MAC SSH_PORT MEMORY_MIB BALLOON_MIB WEB SERVICES BACKUP | undo NAME BACKUP SERVICES" >&2
    exit 64
    ;;
esac
