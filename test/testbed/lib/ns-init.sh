#!/bin/bash
# PID "holder" of the testbed's host01.farm: run by `testbed.sh up` as
#   unshare --net --mount --uts --fork ns-init.sh S GUEST_DIR
# It lays out the private mount namespace, then sleeps; every command of the testbed enters
# its namespaces with nsenter. Nothing here is visible outside the namespace: /etc, /var, /root
# and /srv are overlays whose writes land in S/ovl, /run is a tmpfs, and the seed's config
# directories are bind mounts of S/etc/*.
set -euo pipefail
S=$1
echo $$ >"$S/holder.pid"

mount --make-rprivate /
hostname host01.farm

# Writes under /etc, /var, /root and /srv go to S/ovl/<dir>/upper (prepared by testbed.sh).
for d in etc var root srv; do
  mount -t overlay "farm-testbed-$d" \
    -o "lowerdir=/$d,upperdir=$S/ovl/$d/upper,workdir=$S/ovl/$d/work" "/$d"
done
# The config directories farmctl edits, at the seed's paths (directories, so renames work).
for d in bind dhcp nginx shorewall farmd; do
  mkdir -p "/etc/$d"
  mount --bind "$S/etc/$d" "/etc/$d"
done
mount --bind "$S/log" /var/log

# A private /run; Ganeti's run dir (pid files, monitor and serial sockets) stays readable from
# the host in S/run/ganeti, so `down` can find each QEMU by its pid file.
mount -t tmpfs -o mode=755,size=64m farm-testbed-run /run
mkdir -p /run/ganeti /run/lock /run/named /run/sshd
mount --bind "$S/run/ganeti" /run/ganeti

# LVM stand-ins (see lvm-standin/): lvcreate, lvremove, lvrename, lvchange resolve to the
# stand-in, everything else (and /usr/sbin/lvm itself) to the real /usr/sbin. Read-only overlay.
mount -t overlay farm-testbed-sbin -o "lowerdir=$S/standin-sbin:/usr/sbin" /usr/sbin

# /dev/<vg>/<lv> links of the stand-in's activations: private to this namespace.
mount -t tmpfs -o mode=755,size=1m farm-testbed-devall /dev/all

# sysfs of this network namespace (Ganeti checks /sys/class/net/br0/bridge). The host's cgroup
# hierarchies are carried over it, as farmd sees them on a real host (the copy throttle's blkio).
if [ -d /sys/fs/cgroup ]; then
  mkdir /run/farm-testbed-cgroup
  mount --rbind /sys/fs/cgroup /run/farm-testbed-cgroup
fi
mount -t sysfs farm-testbed-sys /sys
if [ -d /run/farm-testbed-cgroup ]; then
  mount --move /run/farm-testbed-cgroup /sys/fs/cgroup
  rmdir /run/farm-testbed-cgroup
fi

touch "$S/holder.ready"
exec sleep infinity
