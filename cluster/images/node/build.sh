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
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
DOCKER_BUILDKIT=0 docker build ${KUBEGATE_BUILD_ARGS:-} --tag "$tag" "$here" >&2
echo "$tag"
