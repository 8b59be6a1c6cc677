"""The per-boot preparation script every node runs before its Kubernetes units.

A node container that is stopped and started again gets a fresh network namespace, /run
and /dev, so routes, sysctls, /dev/kmsg and the kubelet's cgroup root must be set up at
every boot, not once at provisioning.
"""

from __future__ import annotations

from kubegate.spec import ClusterSpec, Node

_CGROUP_ROOT = r'''
# kubelet's cgroup root: nested inside this node container's own cgroup, so each minion's
# pods stay apart on the shared (cgroup v1) host hierarchy and vanish with the container.
# The memory line of /proc/self/cgroup is this service's cgroup; cut the systemd part.
self_cg=$(awk -F: '$2 == "memory" {print $3}' /proc/self/cgroup)
base=${self_cg%%/system.slice*}
base=${base%%/init.scope*}
root="${base%/}/kubelet"
for ctrl in /sys/fs/cgroup/*/; do
  [ -e "${ctrl}cgroup.procs" ] || continue
  mkdir -p "${ctrl%/}${root}"
done
# cgroup v1 cpuset children start empty: copy cpus/mems down from the nearest parent.
if [ -d /sys/fs/cgroup/cpuset ]; then
  path=/sys/fs/cgroup/cpuset
  for part in ${root//\// }; do
    parent=$path; path="$path/$part"
    for f in cpuset.cpus cpuset.mems; do
      [ -n "$(cat "$path/$f" 2>/dev/null)" ] || cat "$parent/$f" > "$path/$f"
    done
  done
fi
mkdir -p /run/kubegate
echo "KUBELET_CGROUP_ROOT=$root" > /run/kubegate/kubelet.env
'''


def render_node_prep(spec: ClusterSpec, node: Node) -> str:
    routes = [
        f"ip route replace {m.pod_cidr} via {m.ip}"
        for m in spec.minions
        if m.name != node.name and m.pod_cidr
    ]
    lines = [
        "#!/usr/bin/env bash",
        "# Rendered by kubegate (kubegate/render/nodeprep.py); runs at every boot.",
        "set -euo pipefail",
        "# kubelet's OOM watcher opens /dev/kmsg, which a container's /dev lacks.",
        "[ -e /dev/kmsg ] || ln -s /dev/console /dev/kmsg",
        "# Pod /24s of the other minions are reached through their node addresses.",
        *routes,
    ]
    if node.role == "minion":
        lines += [
            "sysctl -qw net.ipv4.ip_forward=1",
            "# kube-proxy's rules must see pod-to-service traffic crossing the cni0 bridge.",
            "sysctl -qw net.bridge.bridge-nf-call-iptables=1 || true",
            _CGROUP_ROOT.strip("\n"),
        ]
    return "\n".join(lines) + "\n"
