#!/usr/bin/env bash
# Installs the Debian packages farmctl's tests and demo drive for real (bind9, isc-dhcp-server,
# nginx, shorewall, lvm2, QEMU, Ganeti, libguestfs), without starting any of their services on this host.
set -euo pipefail
PACKAGES=(
  lvm2 bind9 bind9-utils bind9-dnsutils isc-dhcp-server nginx-light shorewall
  qemu-system-x86 socat dbus ganeti ganeti-instance-debootstrap
  iproute2 util-linux coreutils curl openssl patch mandoc groff-base
  # the testbed (test/testbed/): shorewall start, the LVM stand-in's sparse copy
  iptables python3
  # the customize step (issue 9): guestfish, and the kernel libguestfs' appliance boots
  libguestfs-tools linux-image-amd64
  # the copy benchmark (issue 12): a neighbour's read latency during a copy
  ioping
  # the Debian package (issue 13): its build, its lint, `man -l` on the installed pages
  debhelper bash-completion lintian man-db
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-deps: run as root to install: ${missing[*]}" >&2; exit 1; }
# Packages must not start bind, dhcpd, nginx or Ganeti on this host: policy-rc.d says no.
made_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  made_policy=1
fi
trap '[ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
echo "install-deps: installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
