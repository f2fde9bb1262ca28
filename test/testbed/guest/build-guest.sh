#!/bin/bash
# Builds farmctl's test guest: Debian's kernel + a busybox initramfs whose init (./init) loads
# the virtio drivers, prints GUEST-READY, gets a DHCP lease and serves :80 and :22.
# Output: $FARM_GUEST_DIR/{vmlinuz,initrd.gz}; prints that directory on stdout.
# Nothing is installed on the host: the .debs are fetched with apt-get download and unpacked.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${FARM_GUEST_DIR:-$(cd "$HERE/../../.." && pwd)/test/.cache/guest}
MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
  virtio_balloon virtio_net virtio_blk button evdev crc32c_generic ext4)
log() { echo "build-guest: $*" >&2; }

mkdir -p "$OUT"
# Two test files may build at once: one builds, the other waits and reuses the result.
exec 9>"$OUT/.lock"
flock -w 300 9 || { log "timed out waiting for $OUT/.lock"; exit 1; }

# The stamp covers the guest's own files, so editing init rebuilds the initramfs.
STAMP=$(cat "$HERE/build-guest.sh" "$HERE/init" "$HERE/udhcpc.script" "$HERE/write-index" \
  "$HERE/ssh-banner" "$HERE/poweroff-button" "$HERE/boot-root" "$HERE/fingerprint" | sha256sum | cut -c1-16)
if [ -s "$OUT/vmlinuz" ] && [ -s "$OUT/initrd.gz" ] && [ "$(cat "$OUT/.stamp" 2>/dev/null)" = "$STAMP" ]; then
  echo "$OUT"
  exit 0
fi

KPKG=${FARM_GUEST_KERNEL_PKG:-$(apt-cache depends linux-image-amd64 |
  awk '/Depends: linux-image-[0-9]/{print $2; exit}')}
[ -n "$KPKG" ] || { log "no linux-image-<version>-amd64 package known to apt (run apt-get update)"; exit 1; }
DEBS="$OUT/debs"
mkdir -p "$DEBS"
# Keep the .debs: rebuilding after an edit of init then needs no network.
if ! ls "$DEBS/${KPKG}"_*.deb >/dev/null 2>&1 || ! ls "$DEBS"/busybox-static_*.deb >/dev/null 2>&1; then
  log "downloading $KPKG busybox-static"
  (cd "$DEBS" && apt-get download "$KPKG" busybox-static >&2 2>/dev/null) ||
    { log "apt-get download $KPKG busybox-static failed"; exit 1; }
fi

TMP=$(mktemp -d "$OUT/build.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
dpkg-deb -x "$(ls "$DEBS/${KPKG}"_*.deb | head -1)" "$TMP/k"
dpkg-deb -x "$(ls "$DEBS"/busybox-static_*.deb | head -1)" "$TMP/bb"
KVER=$(ls "$TMP/k/lib/modules" | head -1)
KMOD="$TMP/k/lib/modules/$KVER"

# The .deb ships no modules.dep (depmod makes it at install): read each module's depends=,
# which is what depmod copies into modules.dep, and emit dependencies before dependents.
declare -A PATH_OF=() DONE=()
while IFS= read -r f; do
  n=$(basename "$f" .ko)
  PATH_OF[${n//-/_}]=$f
done < <(find "$KMOD/kernel" -name '*.ko')
ORDER=()
visit() {
  local m=${1//-/_} dep
  [ -n "${DONE[$m]:-}" ] && return
  DONE[$m]=1
  [ -n "${PATH_OF[$m]:-}" ] || { log "module $m not in $KPKG"; exit 1; }
  for dep in $(tr '\0' '\n' <"${PATH_OF[$m]}" | sed -n 's/^depends=//p' | tr ',' ' '); do
    visit "$dep"
  done
  ORDER+=("$m")
}
for m in "${MODULES[@]}"; do visit "$m"; done

R="$TMP/root"
mkdir -p "$R"/{bin,proc,sys,dev,mod,run,tmp,www,etc/acpi/PWRF}
cp "$TMP/bb/bin/busybox" "$R/bin/busybox"
for m in "${ORDER[@]}"; do cp "${PATH_OF[$m]}" "$R/mod/$m.ko"; done
printf '%s\n' "${ORDER[@]}" >"$R/mod/order"
install -m 0755 "$HERE/init" "$R/init"
install -m 0755 "$HERE/udhcpc.script" "$R/etc/udhcpc.script"
install -m 0755 "$HERE/write-index" "$R/etc/write-index"
install -m 0755 "$HERE/ssh-banner" "$R/bin/ssh-banner"
install -m 0755 "$HERE/fingerprint" "$R/bin/fingerprint"
install -m 0755 "$HERE/boot-root" "$R/etc/boot-root"
install -m 0755 "$HERE/poweroff-button" "$R/etc/acpi/PWRF/00000080"
(cd "$R" && find . | "$TMP/bb/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1) >"$TMP/initrd.gz"

cp "$TMP/k/boot/vmlinuz-$KVER" "$TMP/vmlinuz"
mv "$TMP/vmlinuz" "$OUT/vmlinuz"
mv "$TMP/initrd.gz" "$OUT/initrd.gz"
echo "$KVER" >"$OUT/kernel-version"
echo "$STAMP" >"$OUT/.stamp"
log "built $OUT (kernel $KVER, modules: ${ORDER[*]})"
echo "$OUT"
