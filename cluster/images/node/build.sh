#!/usr/bin/env bash
# Build the kubegate node image (systemd + sshd + containerd) FROM kubegate/debian:bookworm.
# Usage: build.sh TAG
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "$0")" && pwd)
docker image inspect kubegate/debian:bookworm >/dev/null 2>&1 || {
  echo "kubegate: base image kubegate/debian:bookworm missing; build it with: cluster/images/debian/build.sh kubegate/debian:bookworm" >&2
  exit 1
}
log=$(mktemp /var/tmp/kubegate-node-build.XXXXXX)
trap 'rm -f "$log"' EXIT
if ! DOCKER_BUILDKIT=0 docker build --quiet --tag "$tag" "$here" >"$log" 2>&1; then
  tail -30 "$log" >&2
  echo "kubegate: docker build of the node image failed (log above)" >&2
  exit 1
fi
echo "$tag"
