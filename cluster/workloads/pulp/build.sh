#!/usr/bin/env bash
# Build kubegate's `pulp` image: the seed's consumers as a small Pulp-shaped application
# (Celery workers and beat, a Flask web API under gunicorn). Usage: build.sh TAG.
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ctx=$(mktemp -d /var/tmp/kubegate-pulp-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp -r "$here/Dockerfile" "$here/requirements.txt" "$here/pulp_app" "$ctx/"
find "$ctx" -name __pycache__ -prune -exec rm -rf {} +
# CAs the host trusts beyond Debian's (a TLS-inspecting egress proxy in front of PyPI), as for `client`.
mkdir "$ctx/extra-ca"
find "${KUBEGATE_EXTRA_CA_DIR:-/usr/local/share/ca-certificates}" -maxdepth 1 -name '*.crt' -exec cp {} "$ctx/extra-ca/" \; 2>/dev/null || true
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
docker build ${KUBEGATE_BUILD_ARGS:-} -t "$tag" "$ctx" >&2
echo "$tag"
