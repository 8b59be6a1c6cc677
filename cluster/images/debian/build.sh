#!/usr/bin/env bash
# Build the base image every other kubegate image starts FROM. No image registry is
# reachable here, so the base comes from Debian's archive: debootstrap a minbase
# bookworm rootfs and `docker import` it.
# Usage: build.sh TAG
set -euo pipefail
tag=${1:?usage: build.sh TAG}
command -v debootstrap >/dev/null || { echo "kubegate: debootstrap not found; install it with: apt-get install -y debootstrap" >&2; exit 1; }
root=$(mktemp -d /var/tmp/kubegate-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=ca-certificates,iproute2,procps bookworm "$root" >"$root.log" 2>&1 \
  || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$tag" >/dev/null
echo "$tag"
