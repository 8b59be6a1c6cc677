#!/usr/bin/env bash
# Provision one kubegate node (run as root inside the node by Vagrant's shell provisioner,
# the same for every provider). Idempotent: a second run changes nothing and restarts
# nothing unless the rendered files or binaries changed.
#
# Usage: node.sh NAME ROLE        (ROLE: master | minion)
#
# 1. installs OS packages that are missing (the docker-provider image has them all);
# 2. installs the role's binaries from $DIST/bin into /usr/local/bin (CNI plugins into
#    /opt/cni/bin), only when changed: minions get the container runtime kubegate built
#    (containerd 2, runc, CNI plugins), not Debian's. Without a dist - VMs - it downloads
#    the official release of the version in $KUBEGATE_KUBE_VERSION or $NODE_DIR/kube-version,
#    etcd and crictl likewise with etcd-version and crictl-version, the runtime at the
#    versions pinned below (the same as kubegate/rig/build/gobuild.py's);
# 3. copies $NODE_DIR/rootfs/. onto / (files owned by root, existing directories untouched);
# 4. on minions imports $DIST/images/*.tar into containerd's k8s.io namespace unless the
#    image (ref and id from images/index.json) is already there;
# 5. daemon-reload, then enable and start every unit in $NODE_DIR/units, restarting a
#    running unit when its unit file, the rendered files or the binaries changed.
#
# Environment (all optional): KUBEGATE_NODE_DIR (default /vagrant/.cluster/nodes/NAME),
# KUBEGATE_DIST (default /opt/kubegate/dist), KUBEGATE_KUBE_VERSION, KUBEGATE_ETCD_VERSION,
# KUBEGATE_CRICTL_VERSION.
set -Eeuo pipefail

NAME=${1:-}
ROLE=${2:-}
LOG=/var/log/kubegate-provision.log
STATE_DIR=/var/lib/kubegate
STAMP=$STATE_DIR/provision.stamp
STEP=start

say() { echo "kubegate[$NAME]: $*"; }
die() { echo "kubegate[$NAME]: ERROR: $*" >&2; exit 1; }
trap 'rc=$?; echo "kubegate[$NAME]: ERROR: step \"$STEP\" failed: \`$BASH_COMMAND\` exited $rc; details in $LOG on the node" >&2; exit $rc' ERR

[[ -n $NAME && ( $ROLE == master || $ROLE == minion ) ]] \
  || { echo "usage: node.sh NAME master|minion" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "must run as root (Vagrant's shell provisioner does: privileged = true)"

NODE_DIR=${KUBEGATE_NODE_DIR:-/vagrant/.cluster/nodes/$NAME}
DIST=${KUBEGATE_DIST:-/opt/kubegate/dist}
[[ -d $NODE_DIR/rootfs && -f $NODE_DIR/units ]] \
  || die "no rendered files for $NAME ($NODE_DIR/rootfs and $NODE_DIR/units); render the cluster on the host first, then run: vagrant provision $NAME"

install -d -m 0755 "$STATE_DIR"
: >>"$LOG"
echo "=== $(date -Is) node.sh $NAME $ROLE" >>"$LOG"

# Run a command with its output in the log only.
quiet() { "$@" >>"$LOG" 2>&1; }

hash_stream() { sha256sum | cut -d' ' -f1; }

# Previous stamp: "global HASH" and "unit NAME HASH" lines.
declare -A OLD_UNIT=()
OLD_GLOBAL=
if [[ -f $STAMP ]]; then
  while read -r kind a b; do
    case $kind in
      global) OLD_GLOBAL=$a ;;
      unit) OLD_UNIT[$a]=$b ;;
    esac
  done <"$STAMP"
fi

# --- 1. packages -----------------------------------------------------------------------
STEP=packages
PACKAGES=(systemd systemd-sysv dbus openssh-server sudo less libseccomp2
  iptables conntrack socat ethtool iproute2 kmod curl ca-certificates procps)
missing=()
for p in "${PACKAGES[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  quiet apt-get update -q || die "apt-get update failed; check the node's access to the Debian archive (log: $LOG)"
  quiet apt-get install -y -q --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed; see $LOG on the node"
else
  say "packages: all present"
fi

# --- 2. binaries -----------------------------------------------------------------------
STEP=binaries
# The runtime's versions for the download fallback: tests/test_runtime_versions.py keeps
# them equal to gobuild.CONTAINERD_VERSION, RUNC_VERSION and CNI_PLUGINS_VERSION.
CONTAINERD_VERSION=v2.3.7
RUNC_VERSION=v1.5.3
CNI_PLUGINS_VERSION=v1.10.0
CNI_PLUGINS=(bridge host-local loopback portmap)
if [[ $ROLE == master ]]; then
  BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler)
else
  BINARIES=(kubelet kube-proxy crictl containerd containerd-shim-runc-v2 ctr runc "${CNI_PLUGINS[@]}")
fi
# Where BIN goes on the node: CNI plugins where containerd's config looks for them.
dest_of() { # BIN
  if [[ " ${CNI_PLUGINS[*]} " == *" $1 "* ]]; then echo "/opt/cni/bin/$1"; else echo "/usr/local/bin/$1"; fi
}

# Read a version from the environment or a one-line file next to the rendered rootfs
# into VER. (Functions here set globals: a `die` inside $(...) would only end a subshell.)
VER=
version_of() { # ENV_VALUE FILE ENV_NAME
  local v=$1
  if [[ -z $v && -f $2 ]]; then v=$(tr -d ' \t\r\n' <"$2"); fi
  [[ $v =~ ^v[0-9]+\.[0-9]+\.[0-9]+([-.+][0-9A-Za-z.-]+)?$ ]] \
    || die "no $DIST/bin and no valid version to download: write it (e.g. v1.37.2) to $2 or set $3, then run: vagrant provision $NAME"
  VER=$v
}

# Download BIN of the official release into /var/cache/kubegate; set FETCHED to its path.
FETCHED=
fetch_release_binary() { # BIN
  local bin=$1 arch ver cache url
  arch=$(dpkg --print-architecture)
  # fetch URL FILE: download into the cache, or die naming what to do.
  fetch() { quiet curl -fsSL --retry 3 -o "$2" "$1" || die "download of $1 failed; check the node's internet access or provide $DIST/bin"; }
  if [[ $bin == crictl ]]; then
    version_of "${KUBEGATE_CRICTL_VERSION:-}" "$NODE_DIR/crictl-version" KUBEGATE_CRICTL_VERSION; ver=$VER
    cache=/var/cache/kubegate/cri-tools-$ver
    if [[ ! -x $cache/crictl ]]; then
      install -d "$cache"
      fetch "https://github.com/kubernetes-sigs/cri-tools/releases/download/$ver/crictl-$ver-linux-$arch.tar.gz" "$cache/crictl.tar.gz"
      quiet tar -C "$cache" -xzf "$cache/crictl.tar.gz" crictl
      rm -f "$cache/crictl.tar.gz"
    fi
    FETCHED=$cache/crictl
  elif [[ $bin == containerd || $bin == containerd-shim-runc-v2 || $bin == ctr ]]; then
    ver=$CONTAINERD_VERSION cache=/var/cache/kubegate/containerd-$CONTAINERD_VERSION
    if [[ ! -x $cache/bin/$bin ]]; then
      install -d "$cache"
      fetch "https://github.com/containerd/containerd/releases/download/$ver/containerd-${ver#v}-linux-$arch.tar.gz" "$cache/containerd.tar.gz"
      quiet tar -C "$cache" -xzf "$cache/containerd.tar.gz" bin/containerd bin/containerd-shim-runc-v2 bin/ctr
      rm -f "$cache/containerd.tar.gz"
    fi
    FETCHED=$cache/bin/$bin
  elif [[ $bin == runc ]]; then
    cache=/var/cache/kubegate/runc-$RUNC_VERSION
    if [[ ! -x $cache/runc ]]; then
      install -d "$cache"
      fetch "https://github.com/opencontainers/runc/releases/download/$RUNC_VERSION/runc.$arch" "$cache/runc"
      chmod 0755 "$cache/runc"
    fi
    FETCHED=$cache/runc
  elif [[ " ${CNI_PLUGINS[*]} " == *" $bin "* ]]; then
    cache=/var/cache/kubegate/cni-plugins-$CNI_PLUGINS_VERSION
    if [[ ! -x $cache/$bin ]]; then
      install -d "$cache"
      fetch "https://github.com/containernetworking/plugins/releases/download/$CNI_PLUGINS_VERSION/cni-plugins-linux-$arch-$CNI_PLUGINS_VERSION.tgz" "$cache/cni.tgz"
      quiet tar -C "$cache" -xzf "$cache/cni.tgz" "${CNI_PLUGINS[@]/#/./}"
      rm -f "$cache/cni.tgz"
    fi
    FETCHED=$cache/$bin
  elif [[ $bin == etcd ]]; then
    version_of "${KUBEGATE_ETCD_VERSION:-}" "$NODE_DIR/etcd-version" KUBEGATE_ETCD_VERSION; ver=$VER
    cache=/var/cache/kubegate/etcd-$ver
    if [[ ! -x $cache/etcd ]]; then
      url=https://github.com/etcd-io/etcd/releases/download/$ver/etcd-$ver-linux-$arch.tar.gz
      install -d "$cache"
      quiet curl -fsSL --retry 3 -o "$cache/etcd.tar.gz" "$url" || die "download of $url failed; check the node's internet access or provide $DIST/bin"
      quiet tar -C "$cache" -xzf "$cache/etcd.tar.gz" --strip-components=1 "etcd-$ver-linux-$arch/etcd"
      rm -f "$cache/etcd.tar.gz"
    fi
    FETCHED=$cache/etcd
  else
    version_of "${KUBEGATE_KUBE_VERSION:-}" "$NODE_DIR/kube-version" KUBEGATE_KUBE_VERSION; ver=$VER
    cache=/var/cache/kubegate/kubernetes-$ver
    if [[ ! -x $cache/$bin ]]; then
      url=https://dl.k8s.io/release/$ver/bin/linux/$arch/$bin
      install -d "$cache"
      quiet curl -fsSL --retry 3 -o "$cache/$bin.part" "$url" || die "download of $url failed; check the node's internet access or provide $DIST/bin"
      local want
      want=$(curl -fsSL --retry 3 "$url.sha256") || die "download of $url.sha256 failed; check the node's internet access"
      [[ $(sha256sum <"$cache/$bin.part" | cut -d' ' -f1) == "${want%% *}" ]] \
        || { rm -f "$cache/$bin.part"; die "checksum of $url does not match $url.sha256; run vagrant provision $NAME again"; }
      chmod 0755 "$cache/$bin.part" && mv -f "$cache/$bin.part" "$cache/$bin"
    fi
    FETCHED=$cache/$bin
  fi
}

changed_bins=()
for b in "${BINARIES[@]}"; do
  if [[ -d $DIST/bin ]]; then
    src=$DIST/bin/$b
    [[ -f $src ]] || die "$src is missing; rebuild the dist on the host (kubegate build), then run: vagrant provision $NAME"
  else
    fetch_release_binary "$b"; src=$FETCHED
  fi
  dest=$(dest_of "$b")
  if ! cmp -s "$src" "$dest"; then
    # Copy then rename: a running binary cannot be overwritten in place.
    install -d -m 0755 "${dest%/*}"
    install -m 0755 "$src" "${dest%/*}/.$b.new"
    mv -f "${dest%/*}/.$b.new" "$dest"
    changed_bins+=("$b")
  fi
done
if ((${#changed_bins[@]})); then
  say "binaries: installed ${changed_bins[*]} from ${DIST}/bin$([[ -d $DIST/bin ]] || echo ' (absent: official release)')"
else
  say "binaries: ${BINARIES[*]} up to date"
fi

# --- 3. rendered files -----------------------------------------------------------------
STEP=files
# Owned by root whoever owns them on the host; existing directories (/, /etc, ...) keep
# their modes; merged-/usr symlinks (/lib -> usr/lib) stay symlinks.
tar -C "$NODE_DIR/rootfs" -cf - . \
  | tar -C / -xf - --no-same-owner --no-overwrite-dir --keep-directory-symlink
nfiles=$(find "$NODE_DIR/rootfs" -type f | wc -l)
# Fingerprint of everything that, changed, warrants restarting the node's units.
GLOBAL=$({
  cd "$NODE_DIR/rootfs" && find . -printf '%p %y %m %l\n' | LC_ALL=C sort
  find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  for b in "${BINARIES[@]}"; do sha256sum "$(dest_of "$b")"; done
} | hash_stream)
if [[ $GLOBAL == "$OLD_GLOBAL" ]]; then
  say "files: $nfiles files from $NODE_DIR/rootfs unchanged"
else
  say "files: $nfiles files from $NODE_DIR/rootfs installed (changed)"
fi

# --- units: read the list, reload systemd ----------------------------------------------
UNITS=()
while IFS= read -r line || [[ -n $line ]]; do
  line=${line%%#*}
  line=$(echo "$line" | tr -d '[:space:]')
  [[ -n $line ]] && UNITS+=("$line")
done <"$NODE_DIR/units"
quiet systemctl daemon-reload

declare -A NEW_UNIT=()
for u in "${UNITS[@]}"; do
  systemctl cat "$u" >/dev/null 2>&1 \
    || die "unit $u (listed in $NODE_DIR/units) not found; render its file under rootfs/etc/systemd/system/ or drop it from the list"
  NEW_UNIT[$u]=$(systemctl cat "$u" 2>/dev/null | hash_stream)
done

# True when unit U must be (re)started because something it depends on changed.
unit_changed() { [[ $GLOBAL != "$OLD_GLOBAL" || ${NEW_UNIT[$1]} != "${OLD_UNIT[$1]:-}" ]]; }

declare -A DONE=()
RESULT=
# Enable U and make it run the current files: start when inactive, restart when changed.
# Sets RESULT to started, restarted or unchanged.
bring_up() { # UNIT
  local u=$1 state
  quiet systemctl enable "$u" || die "systemctl enable $u failed; see $LOG on the node"
  state=$(systemctl is-enabled "$u" 2>/dev/null || true)
  case $state in
    enabled | enabled-runtime | alias | indirect | generated) ;;
    *) die "unit $u is '$state' after enable, so it would not start again when the node restarts; give it an [Install] section (WantedBy=multi-user.target)" ;;
  esac
  if systemctl is-active --quiet "$u" && unit_changed "$u"; then
    systemctl restart "$u" >>"$LOG" 2>&1 || die "unit $u failed to restart; see: journalctl -u $u (on $NAME)"
    RESULT=restarted
  elif ! systemctl is-active --quiet "$u"; then
    systemctl start "$u" >>"$LOG" 2>&1 || die "unit $u failed to start; see: journalctl -u $u (on $NAME)"
    RESULT=started
  else
    RESULT=unchanged
  fi
  DONE[$u]=$RESULT
}

# --- 4. images (minions) ---------------------------------------------------------------
STEP=images
if [[ $ROLE == minion ]]; then
  index=$DIST/images/index.json
  if [[ ! -f $index ]]; then
    say "images: no $index, nothing to import"
  else
    # containerd must run with the rendered config before images go in.
    if [[ " ${UNITS[*]} " == *" containerd.service "* ]]; then
      bring_up containerd.service
      [[ $RESULT == unchanged ]] || say "images: containerd $RESULT"
    elif ! systemctl is-active --quiet containerd; then
      quiet systemctl start containerd || die "containerd failed to start; see: journalctl -u containerd (on $NAME)"
    fi
    for _ in $(seq 1 30); do quiet ctr version && break; sleep 1; done
    quiet ctr version || die "containerd does not answer on its socket; see: journalctl -u containerd (on $NAME)"
    # index.json: {"<file>.tar": {"ref": "...", "id": "sha256:..."}, ...}; no jq here.
    flat=$(tr -d '\n\r' <"$index")
    imported=() present=()
    images_started=$SECONDS
    while IFS= read -r entry; do
      [[ -n $entry ]] || continue
      file=$(sed -E 's/^"([^"]+)".*/\1/' <<<"$entry")
      ref=$(grep -oE '"ref"[[:space:]]*:[[:space:]]*"[^"]+"' <<<"$entry" | sed -E 's/.*"([^"]+)"$/\1/')
      id=$(grep -oE '"id"[[:space:]]*:[[:space:]]*"[^"]+"' <<<"$entry" | sed -E 's/.*"([^"]+)"$/\1/')
      [[ -n $ref && -n $id ]] || die "entry for $file in $index lacks ref or id; rebuild the dist on the host"
      tar=$DIST/images/$file
      [[ -f $tar ]] || die "$tar (listed in $index) is missing; rebuild the dist on the host"
      # Imported images carry the dist's id as a label: same ref and same id = present.
      if ctr -n k8s.io images ls "name==$ref" 2>>"$LOG" | grep -qF "kubegate.id=$id"; then
        present+=("$ref")
        continue
      fi
      quiet ctr -n k8s.io images import --all-platforms "$tar" \
        || die "importing $tar into containerd failed; see $LOG on the node"
      ctr -n k8s.io images ls -q "name==$ref" 2>>"$LOG" | grep -qxF "$ref" \
        || die "$tar did not yield image $ref (its docker tag must equal the ref in $index); rebuild the dist on the host"
      quiet ctr -n k8s.io images label "$ref" "kubegate.id=$id"
      imported+=("$ref")
    done < <(grep -oE '"[^"]+\.tar"[[:space:]]*:[[:space:]]*\{[^}]*\}' <<<"$flat")
    # The store may outlive machines (a named volume): drop kubegate images the dist no longer lists.
    current=" ${imported[*]} ${present[*]} " pruned=()
    while read -r ref; do
      [[ -n $ref && $current != *" $ref "* ]] || continue
      quiet ctr -n k8s.io images rm "$ref" && pruned+=("$ref")
    done < <(ctr -n k8s.io images ls 2>>"$LOG" | awk 'NR > 1 && /kubegate\.id=/ {print $1}')
    say "images: ${#imported[@]} imported${imported:+ (${imported[*]})}, ${#present[@]} already present${pruned:+, ${#pruned[@]} stale removed}, in $((SECONDS - images_started))s"
  fi
fi

# --- 5. units --------------------------------------------------------------------------
STEP=units
summary=()
for u in "${UNITS[@]}"; do
  if [[ -n ${DONE[$u]:-} ]]; then summary+=("$u:${DONE[$u]}"); continue; fi
  bring_up "$u"
  summary+=("$u:$RESULT")
done
{
  echo "global $GLOBAL"
  for u in "${UNITS[@]}"; do echo "unit $u ${NEW_UNIT[$u]}"; done
} >"$STAMP.new"
mv -f "$STAMP.new" "$STAMP"
say "units: ${summary[*]:-none listed}"
