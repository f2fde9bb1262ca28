#!/bin/bash
# Re-records the thin-pool lvs reports (INDEX-lvm-thin.md): real lvm2 metadata-only
# (activation=0) on a private loop device, in a mount namespace with its own /dev (tmpfs) and
# /run/lock, so no other VG "all" on the machine is seen. Root. Usage: record.sh OUTDIR
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d "${TMPDIR:-/tmp}/farm-thin-rec-XXXXXX")
OUT=$(realpath "${1:?usage: record.sh OUTDIR}")
for c in base snap snap-untagged target; do python3 "$HERE/make-vg.py" $c > $D/vg-$c.vg; done
truncate -s 8G $D/pv.img
LOOP=$(losetup --find --show $D/pv.img)
echo "$LOOP" > $D/loop
cleanup() { losetup -d "$LOOP"; rm -rf "$D"; }
trap cleanup EXIT
mkdir -p $D/etc
sed "s|@PV_LOOP@|$LOOP|" "$HERE/../../testbed/conf/lvm.conf.in" > $D/etc/lvm.conf
export LVM_SYSTEM_DIR=$D/etc LVM_SUPPRESS_FD_WARNINGS=1
MINOR=$(stat -c %T "$LOOP"); MINOR=$((16#$MINOR))
unshare -m bash -c "
 mount -t tmpfs none /run/lock && mkdir -p /run/lock/lvm &&
 mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/zero c 1 5 &&
 mknod -m 666 /dev/urandom c 1 9 && mknod -m 666 /dev/random c 1 8 &&
 mknod -m 660 $LOOP b 7 $MINOR && bash $HERE/inner.sh $LOOP $D $OUT"
