#!/bin/bash
# Private experiment: real lvm2 2.03.16 metadata-only (activation=0) on a private loop device,
# in a mount namespace with its own /dev (tmpfs) and /run/lock, so no other VG "all" is seen.
set -u
D=$D
truncate -s 8G $D/pv.img
LOOP=$(losetup --find --show $D/pv.img)
echo "$LOOP" > $D/loop
cleanup() { losetup -d "$LOOP"; rm -f $D/pv.img; }
trap cleanup EXIT
mkdir -p $D/etc
sed "s|@PV_LOOP@|$LOOP|" $(dirname "$0")/../../testbed/conf/lvm.conf.in > $D/etc/lvm.conf
export LVM_SYSTEM_DIR=$D/etc LVM_SUPPRESS_FD_WARNINGS=1
MINOR=$(stat -c %T "$LOOP"); MINOR=$((16#$MINOR))
unshare -m bash -c "
 mount -t tmpfs none /run/lock && mkdir -p /run/lock/lvm &&
 mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
 mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/random c 1 8 &&
 mknod -m 660 $LOOP b 7 $MINOR && bash $D/inner.sh $LOOP"
