#!/usr/bin/env bash
# Build an image from Go binaries kubegate compiles from their module (cached like the server
# binaries) and the Dockerfile of the calling image's folder. Usage (from an image's build.sh):
#   go-image.sh TAG FOLDER GOBUILD_TARGET BINARY...
set -euo pipefail
usage="usage: go-image.sh TAG FOLDER GOBUILD_TARGET BINARY..."
tag=${1:?$usage} folder=${2:?$usage} target=${3:?$usage}
shift 3
(($#)) || { echo "$usage" >&2; exit 2; }
# KUBEGATE_PYTHON: the interpreter kubegate runs in (a virtualenv's, for an installed wheel).
bindir=$("${KUBEGATE_PYTHON:-python3}" -m kubegate.rig.build.gobuild "$target")
ctx=$(mktemp -d "/var/tmp/kubegate-$target-ctx.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$folder/Dockerfile" "$ctx/"
for binary in "$@"; do cp "$bindir/$binary" "$ctx/"; done
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
docker build ${KUBEGATE_BUILD_ARGS:-} -t "$tag" "$ctx" >&2
echo "$tag"
