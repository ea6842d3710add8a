#!/usr/bin/env bash
# Checks the image that `mvn -Pimage package` wrote: unpacks its layers into a root filesystem,
# checks the image configuration (user, ports, entrypoint), and, where this machine allows
# chroot (running as root), runs the entrypoint from that root filesystem alone: `--version`, and
# `validate` on an invalid object, which must be refused with the validator's message.
#
# Usage: check.sh IMAGE_TAR WORK_DIR
set -euo pipefail

tarball="$1"
work="$2"
rm -rf "$work"
mkdir -p "$work/oci" "$work/rootfs"
tar -xf "$tarball" -C "$work/oci"

fail() {
  echo "image check: $*" >&2
  exit 1
}

# Docker-archive layout (manifest.json) or OCI layout (index.json -> manifest -> config, layers).
blob() { echo "$work/oci/blobs/${1/://}"; }
digests() { grep -o '"digest" *: *"sha256:[0-9a-f]*"' | sed 's/.*"\(sha256:[0-9a-f]*\)"/\1/'; }
if [[ -f "$work/oci/index.json" ]]; then
  manifest=$(blob "$(digests <"$work/oci/index.json" | head -1)")
  config=$(blob "$(grep -o '"config" *: *{[^}]*}' "$manifest" | digests)")
  layers=()
  while read -r digest; do layers+=("$(blob "$digest")"); done < <(
    sed 's/.*"layers" *: *\[//' "$manifest" | digests)
else
  config="$work/oci/$(grep -o '"Config" *: *"[^"]*"' "$work/oci/manifest.json" | sed 's/.*: *"\(.*\)"/\1/')"
  layers=()
  while read -r layer; do layers+=("$work/oci/$layer"); done < <(
    grep -o '"Layers" *: *\[[^]]*\]' "$work/oci/manifest.json" | grep -o '"[^"]*\.tar[^"]*"' | tr -d '"')
fi
[[ -f "$config" ]] || fail "no image configuration in $tarball"
(( ${#layers[@]} > 0 )) || fail "no layers in $tarball"
for layer in "${layers[@]}"; do
  tar -xzf "$layer" -C "$work/rootfs" 2>/dev/null || tar -xf "$layer" -C "$work/rootfs"
done

tr -d ' \n' <"$config" >"$work/config.json"
grep -q '"User":"1337:1337"' "$work/config.json" || fail "the image does not run as 1337:1337"
for port in 15010 15012 15014 15017; do
  grep -q "\"$port/tcp\"" "$work/config.json" || fail "port $port is not declared"
done
grep -q '"Entrypoint":\["/opt/bosun/runtime/bin/java"' "$work/config.json" ||
  fail "the entrypoint is not the image's own runtime"
[[ -x "$work/rootfs/opt/bosun/runtime/bin/java" ]] || fail "no runtime in the image"
echo "image check: $(du -sh "$work/rootfs" | cut -f1) unpacked, ${#layers[@]} layers, user 1337, ports declared"

if [[ $EUID -ne 0 ]] || ! command -v unshare >/dev/null; then
  echo "image check: not root here, so the image was not run (chroot needs root)"
  exit 0
fi
entrypoint=$(grep -o '"Entrypoint":\[[^]]*\]' "$work/config.json" | sed 's/"Entrypoint":\[//; s/\]$//' | tr -d '"' | tr ',' ' ')
mkdir -p "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/tmp/check"
cat >"$work/rootfs/tmp/check/route.yaml" <<'YAML'
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: bad
  namespace: check
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: {host: reviews}
          weight: -5
YAML
run() {
  # shellcheck disable=SC2086 # the entrypoint is a list of words
  unshare -m bash -c "mount -t proc proc '$work/rootfs/proc' && mount --bind /dev '$work/rootfs/dev' &&
    chroot --userspec=1337:1337 '$work/rootfs' $entrypoint $*"
}
version=$(run --version) || fail "the entrypoint does not start: $version"
echo "image check: runs from its own root filesystem: $version"
if out=$(run validate /tmp/check/route.yaml 2>&1); then
  fail "validate accepted an invalid VirtualService: $out"
fi
grep -q 'weight' <<<"$out" || fail "validate did not say why: $out"
echo "image check: validate refuses an invalid VirtualService inside the image"
