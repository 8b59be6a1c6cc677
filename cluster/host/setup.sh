#!/usr/bin/env bash
# Set up a Debian 12 machine for kubegate (run as root): OS packages, the Python package,
# mongosh, and a running Docker Engine. Idempotent and quick when everything is there;
# from an installed wheel (`kubegate setup`, PYTHON = its interpreter) the package is already
# there, so only the Python step is left out.
# everything kubegate builds later (Kubernetes from source, images) is cached outside the
# checkout, in ${KUBEGATE_CACHE:-~/.cache/kubegate}.
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { echo "kubegate setup: $*"; }

[[ $(id -u) == 0 ]] || { echo "kubegate setup: run as root (apt-get and dockerd need it)" >&2; exit 1; }

# command -> Debian package
declare -A PKG=(
  [dockerd]=docker.io [vagrant]=vagrant [debootstrap]=debootstrap [mvn]=maven
  [java]=openjdk-17-jre-headless [gcc]=gcc [ssh]=openssh-client [curl]=curl [npm]=npm
  [pkg-config]=pkg-config
)
need=()
for cmd in "${!PKG[@]}"; do command -v "$cmd" >/dev/null 2>&1 || need+=("${PKG[$cmd]}"); done
[[ -f /usr/lib/x86_64-linux-gnu/libc.a || -f /usr/lib/aarch64-linux-gnu/libc.a ]] || need+=(libc6-dev)
# runc is built with cgo against libseccomp, as upstream builds it (seccomp filters for pods).
[[ -f /usr/include/seccomp.h ]] || need+=(libseccomp-dev)
# vagrant-libvirt lets `vagrant validate` check the libvirt provider block too.
[[ -d /usr/share/rubygems-integration/all/gems/vagrant-libvirt-0.11.2 ]] || \
  dpkg-query -W -f='${Status}' vagrant-libvirt 2>/dev/null | grep -q 'ok installed' || need+=(vagrant-libvirt)
if ! command -v go >/dev/null 2>&1; then
  # Debian's Go is too old for today's Kubernetes; kubegate's build then asks the Go module
  # proxy for a current toolchain (GOTOOLCHAIN), which this bootstrap Go can fetch.
  need+=(golang-go)
fi
if ((${#need[@]})); then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  say "OS packages present"
fi

py=${PYTHON:-python3}
# The Python package's dependencies come from their hash-locked requirements (kubegate locks
# update renews them); a stamp of the locks' digest skips the install when nothing changed.
cache=${KUBEGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubegate}
mkdir -p "$cache"
locks=$(cat cluster/host/requirements.txt cluster/host/build-requirements.txt pyproject.toml 2>/dev/null | sha256sum | cut -c1-64)
if [[ ! -f pyproject.toml ]]; then
  say "kubegate $("$py" -c 'import kubegate; print(kubegate.__version__)') installed as a package; its Python step is pip's"
elif [[ $(cat "$cache/host-python.lock" 2>/dev/null) != "$locks" ]] \
   || ! "$py" -c 'import kubegate, vagrant, proton, pymongo, kombu, cryptography, xdist' >/dev/null 2>&1 \
   || [[ $(cd / && "$py" -c 'import kubegate,os;print(os.path.dirname(os.path.dirname(kubegate.__file__)))') != "$PWD" ]]; then
  say "installing the kubegate package (editable) and its locked dependencies"
  export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
  "$py" -m pip install -q --require-hashes -r cluster/host/requirements.txt
  "$py" -m pip install -q --require-hashes -r cluster/host/build-requirements.txt
  "$py" -m pip install -q --no-deps --no-build-isolation -e .
  echo "$locks" >"$cache/host-python.lock"
fi

say "mongosh: $("$py" -m kubegate.locks.npm)"
bash cluster/host/ensure-dockerd.sh
say "Docker Engine $(docker version --format '{{.Server.Version}}') running; ready"
