#!/usr/bin/env bash
# Lays out the root filesystem that Bosun's image adds to an empty base: a jlink-ed Java runtime
# under /opt/bosun/runtime, the shared libraries that runtime loads (taken from this machine, so
# the image needs no base image), and passwd/group entries for the non-root user 1337.
#
# Usage: runtime.sh JAVA_HOME MODULES OUT_DIR
set -euo pipefail

java_home="$1"
modules="$2"
out="$3"

rm -rf "$out"
mkdir -p "$out/opt/bosun" "$out/etc" "$out/tmp"

"$java_home/bin/jlink" \
  --add-modules "$modules" \
  --output "$out/opt/bosun/runtime" \
  --strip-debug --no-header-files --no-man-pages --compress=2

# Libraries of the desktop toolkit: java.desktop is linked in for java.beans only, and Bosun runs
# headless, so the X11 and font libraries they need are not shipped.
gui='libawt_xawt.so|libsplashscreen.so|libjawt.so|libfontmanager.so|libjsound.so|libatk-wrapper.so|liblcms.so|libjavajpeg.so|libmlib_image.so'

libs=$(
  {
    echo "$out/opt/bosun/runtime/bin/java"
    find "$out/opt/bosun/runtime/lib" -name '*.so' | grep -Ev "/($gui)\$"
  } | while read -r binary; do
    ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  done | sort -u
)
for lib in $libs; do
  case "$lib" in
    "$out"/*) continue ;; # the runtime's own libraries
  esac
  mkdir -p "$out$(dirname "$lib")"
  cp -L "$lib" "$out$lib"
done

# The dynamic loader that every ELF binary here names as its interpreter.
for loader in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
  if [[ -e "$loader" ]]; then
    mkdir -p "$out$(dirname "$loader")"
    cp -L "$loader" "$out$loader"
  fi
done

printf 'root:x:0:0:root:/root:/sbin/nologin\nbosun:x:1337:1337:bosun:/tmp:/sbin/nologin\n' \
  >"$out/etc/passwd"
printf 'root:x:0:\nbosun:x:1337:\n' >"$out/etc/group"
