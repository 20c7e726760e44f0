#!/bin/sh
# Assembles a minimal runtime file system (the agent image's only layer):
#
#   images/rootfs.sh ROOT SRC:DEST ...
#
# copies each executable SRC to ROOT/DEST (stripped), then every shared
# object `ldd` shows for them at the path ldd names (the loader finds them
# there without an ld.so.cache), an /etc/passwd and /etc/group naming root
# and DX's user 1000 (home /tmp), and a world-writable /tmp. Nothing else:
# no package manager, no shell but the one passed in, no CA bundle (the
# agent trusts the CA its --tls-ca names, kubectl its service account's).
# tests/images/image_deps_test.py runs the agent in such a root.
set -eu
root=$1
shift
mkdir -p "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
libs=$(mktemp)
trap 'rm -f "$libs"' EXIT
for pair do
  src=${pair%%:*}
  dest=$root${pair#*:}
  mkdir -p "$(dirname "$dest")"
  cp "$src" "$dest"
  strip --strip-unneeded "$dest" 2>/dev/null || true
  # A static executable has no "=> path" lines and no loader line.
  ldd "$src" 2>/dev/null | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' \
    -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' >>"$libs" || true
done
sort -u "$libs" | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/bin/sh\ndx:x:1000:1000:dx:/tmp:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\ndx:x:1000:\n' >"$root/etc/group"
