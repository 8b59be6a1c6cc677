#!/usr/bin/env bash
# Build kubegate's `coredns` image: CoreDNS v1.15.0 compiled from its Go module (cached like
# the server binaries), FROM scratch as upstream's image. Usage: build.sh TAG.
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# KUBEGATE_PYTHON: the interpreter kubegate runs in (a virtualenv's, for an installed wheel).
bindir=$("${KUBEGATE_PYTHON:-python3}" -m kubegate.rig.build.gobuild coredns)
ctx=$(mktemp -d /var/tmp/kubegate-coredns-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$ctx/"
cp "$bindir/coredns" "$ctx/coredns"
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
docker build ${KUBEGATE_BUILD_ARGS:-} -t "$tag" "$ctx" >&2
echo "$tag"
