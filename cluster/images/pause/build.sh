#!/usr/bin/env bash
# Build the pause image: pause.c compiled static with the host's gcc, FROM scratch.
# Usage: build.sh TAG
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "$0")" && pwd)
command -v gcc >/dev/null || { echo "kubegate: gcc not found; install it with: apt-get install -y gcc libc6-dev" >&2; exit 1; }
ctx=$(mktemp -d /var/tmp/kubegate-pause.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
gcc -Os -Wall -Werror -static -DVERSION=kubegate -o "$ctx/pause" "$here/pause.c" \
  || { echo "kubegate: compiling pause.c failed; a static build needs libc6-dev (apt-get install -y libc6-dev)" >&2; exit 1; }
strip "$ctx/pause"
cp "$here/Dockerfile" "$ctx/Dockerfile"
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
DOCKER_BUILDKIT=0 docker build ${KUBEGATE_BUILD_ARGS:-} --tag "$tag" "$ctx" >&2
echo "$tag"
