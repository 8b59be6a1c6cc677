#!/usr/bin/env bash
# Build kubegate's `db` image (FerretDB v1.24.2 + SQLite, FROM scratch).
# Usage: build.sh TAG. Input: the binary from build-ferretdb.sh (built into the cache when missing).
# The context is staged in a temporary directory (this folder's Dockerfile + the binary), so the
# 30 MB binary never lands in the checkout.
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=$("$here/build-ferretdb.sh")
ctx=$(mktemp -d /var/tmp/kubegate-db-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$ctx/"
cp "$bin" "$ctx/ferretdb"
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
docker build ${KUBEGATE_BUILD_ARGS:-} -t "$tag" "$ctx" >&2
echo "$tag"
