#!/usr/bin/env bash
# Build FerretDB (MongoDB wire protocol on SQLite) from the Go module proxy into the cache:
#   $KUBEGATE_CACHE/bin/ferretdb-v1.24.2/ferretdb   (static, CGO_ENABLED=0)
# through a wrapper module in $KUBEGATE_CACHE/gowork/ferretdb-v1.24.2/ (never in the repo).
# Skips when the binary exists (KUBEGATE_REBUILD=1 forces a rebuild). Prints the binary's path.
#
# Build facts (FerretDB's own build/ferretdb/production.Dockerfile builds the same way):
#   package   github.com/FerretDB/FerretDB/cmd/ferretdb, module github.com/FerretDB/FerretDB v1.24.2
#   tags      ferretdb_no_postgresql  (drops the PostgreSQL backend; SQLite is pure Go: modernc.org/sqlite)
#             no ferretdb_debug: a production (non-debug) build
#   flags     -trimpath -buildvcs=false -ldflags='-s -w -buildid=', CGO_ENABLED=0, GOAMD64=v1
#   version   FerretDB has no -X version variables. build/version embeds build/version/*.txt and,
#             when the main module is github.com/FerretDB/FerretDB (it is when building its
#             cmd/ferretdb), panics at start without version.txt, which upstream generates from
#             git and the module zip lacks. `go build -overlay` may not touch GOMODCACHE, so the
#             wrapper `replace`s the module with a copy of its (checksum-verified) source from
#             the module cache plus build/version/{version,package}.txt.
set -euo pipefail
version=v1.24.2
module=github.com/FerretDB/FerretDB
tags=ferretdb_no_postgresql
cache=${KUBEGATE_CACHE:-$HOME/.cache/kubegate}
out=$cache/bin/ferretdb-$version/ferretdb
work=$cache/gowork/ferretdb-$version

if [[ -x $out && -z ${KUBEGATE_REBUILD:-} ]]; then
  echo "$out"
  exit 0
fi
command -v go >/dev/null || { echo "kubegate: go not found; install Go >= 1.24 (the machine's toolchain)" >&2; exit 1; }
export GOTOOLCHAIN=local CGO_ENABLED=0 GOAMD64=v1 GOFLAGS="-mod=mod -buildvcs=false"

# 1. The module's source, verified against go.sum's checksum database entry by `go mod download`.
moddir=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d $moddir ]] || { echo "kubegate: go mod download $module@$version gave no source directory" >&2; exit 1; }
mkdir -p "$work" "$(dirname "$out")"
rm -rf "$work/src"
cp -r "$moddir" "$work/src"
chmod -R u+w "$work/src"
echo "$version" >"$work/src/build/version/version.txt"
echo "kubegate" >"$work/src/build/version/package.txt"

# 2. The wrapper module.
cat >"$work/go.mod" <<GOMOD
module kubegate.local/ferretdbbuild

go 1.24

require $module $version

replace $module => ./src
GOMOD
cat >"$work/tools.go" <<GOSRC
//go:build tools

// Keeps $module in the wrapper's module graph; the build names the package itself.
package ferretdbbuild

import _ "$module/cmd/ferretdb"
GOSRC
cd "$work"
go mod tidy >&2

# 3. Two cores: heavy builds run one at a time. Wait for any other Go build to finish.
# ([g] keeps this pattern from matching a shell whose command line merely contains it.)
waited=0
while pgrep -f '[g]o build' >/dev/null; do
  ((waited % 60 == 0)) && echo "build-ferretdb: waiting for another Go build to finish ($waited s)" >&2
  sleep 5
  waited=$((waited + 5))
done

start=$(date +%s)
go build -trimpath -tags="$tags" -ldflags='-s -w -buildid=' -o "$out.tmp" "$module/cmd/ferretdb" >&2
"$out.tmp" --version | grep -qx "version: $version" \
  || { echo "kubegate: built ferretdb does not report version $version" >&2; exit 1; }
mv "$out.tmp" "$out"
echo "build-ferretdb: built $out in $(($(date +%s) - start)) s" >&2
echo "$out"
