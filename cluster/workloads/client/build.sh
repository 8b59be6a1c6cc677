#!/usr/bin/env bash
# Build kubegate's `client` image (kubegate-probe + pymongo + python-qpid-proton + mongosh).
# Usage: build.sh TAG. Inputs: this folder and kubegate/services/probes/ (KUBEGATE_PROBES_DIR), staged
# together into a temporary context (the probes are copied as top-level `kubegate_probes`).
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
probes=$(cd "${KUBEGATE_PROBES_DIR:-$here/../../../kubegate/services/probes}" && pwd)
ctx=$(mktemp -d /var/tmp/kubegate-client-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp -r "$here/Dockerfile" "$here/kubegate-probe" "$here/requirements.txt" "$here/build-requirements.txt" "$here/mongosh" "$ctx/"
# CAs the host trusts beyond Debian's (e.g. a TLS-inspecting egress proxy): pip and npm in the build
# stage need them to reach their registries. KUBEGATE_EXTRA_CA_DIR overrides where they are taken from.
mkdir "$ctx/extra-ca"
find "${KUBEGATE_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}" -maxdepth 1 -name '*.crt' -exec cp {} "$ctx/extra-ca/" \; 2>/dev/null || true
mkdir "$ctx/kubegate_probes"
cp "$probes"/*.py "$ctx/kubegate_probes/"
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
docker build ${KUBEGATE_BUILD_ARGS:-} -t "$tag" "$ctx" >&2
echo "$tag"
