#!/usr/bin/env bash
# Build kubegate's `msg` image (Qpid Broker-J 9.2.1 on Debian's openjdk-17-jre-headless).
# Usage: build.sh TAG. Input: the broker's bin tarball from the local Maven repository
# (fetched with `mvn dependency:get` when missing, checked against Maven Central's .sha1).
set -euo pipefail
tag=${1:?usage: build.sh TAG}
version=9.2.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
m2=${MAVEN_REPO:-$HOME/.m2/repository}
tgz=$m2/org/apache/qpid/apache-qpid-broker-j/$version/apache-qpid-broker-j-$version-bin.tar.gz
if [[ ! -f $tgz ]]; then
  command -v mvn >/dev/null || { echo "kubegate: mvn not found; install Maven (apt-get install -y maven)" >&2; exit 1; }
  mvn -q dependency:get -Dartifact="org.apache.qpid:apache-qpid-broker-j:$version:tar.gz:bin" -Dtransitive=false >&2
fi
if [[ -f $tgz.sha1 ]]; then
  want=$(cut -c1-40 "$tgz.sha1")
  got=$(sha1sum "$tgz" | cut -c1-40)
  [[ $want == "$got" ]] || { echo "kubegate: $tgz does not match its .sha1; delete it and rebuild" >&2; exit 1; }
fi
ctx=$(mktemp -d /var/tmp/kubegate-msg-ctx.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$here/Dockerfile" "$here/initial-config.json" "$here/entrypoint.sh" "$ctx/"
mkdir "$ctx/qpid-broker"
tar -xzf "$tgz" -C "$ctx/qpid-broker" --strip-components=2 "qpid-broker/$version"
# The HTTP management console's static assets are unused (management is off).
rm -f "$ctx/qpid-broker/lib/dojo-"*-distribution.zip "$ctx/qpid-broker/bin/"*.bat
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
