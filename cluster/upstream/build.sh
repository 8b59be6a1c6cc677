#!/usr/bin/env bash
# Build the images upstream's e2e specs run, under their exact upstream names, from the
# Kubernetes module (agnhost, kitten/nautilus content) and Debian packages. No registry is
# reachable, so `e2e.test` finds them already in each minion's containerd (IfNotPresent).
# Usage: build.sh TAG E2E_BIN_DIR NAMES_FILE
#   each image is tagged kubegate/e2e-NAME:TAG and with every upstream name NAMES_FILE gives it
#   ("NAME REF" lines: images.txt's repositories at the tags this e2e.test lists); the test
#   images' sources come from the Kubernetes module of the version in E2E_BIN_DIR/.version.
set -euo pipefail
usage="usage: build.sh TAG E2E_BIN_DIR NAMES_FILE"
tag=${1:?$usage}
bindir=${2:?$usage}
names=${3:?$usage}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
version=$(cat "$bindir/.version")
moddir=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[[ -d $moddir/test/images ]] || { echo "kubegate: no test/images in the k8s.io/kubernetes module ($moddir)" >&2; exit 1; }
ctx=$(mktemp -d /var/tmp/kubegate-e2e-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT

build() { # NAME CONTEXT [BUILD-ARGS...]
  local name=$1 dir=$2; shift 2
  docker build -q "$@" -t "kubegate/e2e-$name:$tag" "$dir" >/dev/null
  while read -r upstream; do
    docker tag "kubegate/e2e-$name:$tag" "$upstream"
  done < <(awk -v n="$name" '$1 == n {print $2}' "$names")
}

mkdir -p "$ctx/agnhost/porter"
cp "$here/agnhost.Dockerfile" "$ctx/agnhost/Dockerfile"
cp "$bindir/agnhost" "$ctx/agnhost/agnhost"
cp "$moddir/test/images/agnhost/porter/localhost.crt" "$moddir/test/images/agnhost/porter/localhost.key" "$ctx/agnhost/porter/"
build agnhost "$ctx/agnhost"

for pic in kitten nautilus; do
  mkdir -p "$ctx/$pic/html"
  cp "$moddir/test/images/$pic/html/"* "$ctx/$pic/html/"
  printf 'ARG BASE\nFROM $BASE\nCOPY html/%s.jpg %s.jpg\nCOPY html/data.json data.json\nCMD ["test-webserver"]\n' \
    "$pic" "$pic" >"$ctx/$pic/Dockerfile"
  build "$pic" "$ctx/$pic" --build-arg "BASE=kubegate/e2e-agnhost:$tag"
done

for name in busybox httpd; do
  mkdir -p "$ctx/$name"
  cp "$here/$name.Dockerfile" "$ctx/$name/Dockerfile"
  build "$name" "$ctx/$name"
done
echo "kubegate/e2e-agnhost:$tag"
