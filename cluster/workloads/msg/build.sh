#!/usr/bin/env bash
# Build kubegate's `msg` image (Qpid Broker-J on Debian's openjdk-17-jre-headless).
# Usage: build.sh TAG. Input: the broker's bin tarball named in maven.lock, from the local Maven
# repository (fetched with a pinned maven-dependency-plugin when missing), checked against the
# lock's SHA-512.
set -euo pipefail
tag=${1:?usage: build.sh TAG}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
read -r coord sha512 < <(grep -v '^#' "$here/maven.lock")
IFS=: read -r group artifact version ext classifier <<<"$coord"
m2=${MAVEN_REPO:-$HOME/.m2/repository}
tgz=$m2/${group//.//}/$artifact/$version/$artifact-$version-$classifier.$ext
if [[ ! -f $tgz ]]; then
  command -v mvn >/dev/null || { echo "kubegate: mvn not found; install Maven (apt-get install -y maven)" >&2; exit 1; }
  mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get -Dartifact="$coord" -Dtransitive=false >&2
fi
got=$(sha512sum "$tgz" | cut -d' ' -f1)
if [[ $got != "$sha512" ]]; then
  echo "ERROR: $tgz has SHA-512 $got, maven.lock says $sha512; delete the file to fetch it again, or renew the lock with: kubegate locks update" >&2
  exit 1
fi
ctx=$(mktemp -d /var/tmp/kubegate-msg-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/initial-config.json" "$here/entrypoint.sh" "$ctx/"
mkdir "$ctx/qpid-broker"
tar -xzf "$tgz" -C "$ctx/qpid-broker" --strip-components=2 "qpid-broker/$version"
# The HTTP management console's static assets are unused (management is off).
rm -f "$ctx/qpid-broker/lib/dojo-"*-distribution.zip "$ctx/qpid-broker/bin/"*.bat
# KUBEGATE_BUILD_ARGS: --force-rm, and --no-cache for the canary (kubegate build --no-cache).
docker build ${KUBEGATE_BUILD_ARGS:-} -t "$tag" "$ctx" >&2
echo "$tag"
