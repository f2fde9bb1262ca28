#!/usr/bin/env bash
# npm run deb: builds farmctl_<version>_<arch>.deb with dpkg-buildpackage in a copy of this tree
# (its own node_modules and dist, as a Debian build does), and puts it in dist-deb/ (or $FARMCTL_DEB_OUT).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${FARMCTL_DEB_OUT:-$repo/dist-deb}
work=$(mktemp -d /tmp/farmctl-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/farmctl"
# The files of the checkout (committed or not, never the ignored node_modules, dist or state).
if git -C "$repo" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$repo" ls-files -z --cached --others --exclude-standard |
    (cd "$repo" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
    tar -C "$repo" --null -T - -cf - | tar -C "$work/farmctl" -xf -
else
  tar -C "$repo" --exclude=./node_modules --exclude=./dist --exclude=./dist-deb -cf - . |
    tar -C "$work/farmctl" -xf -
fi
# debhelper gives the build a scratch HOME: npm keeps using the caller's cache.
export npm_config_cache=${npm_config_cache:-${HOME:-/root}/.npm}
(cd "$work/farmctl" && dpkg-buildpackage -us -uc -b)
mkdir -p "$out"
for deb in "$work"/*.deb; do
  cp "$deb" "$out/"
  echo "$out/$(basename "$deb")"
done
