"""The per-boot preparation script every node runs before its Kubernetes units.

A node container that is stopped and started again gets a fresh network namespace, /run
and /dev, so routes, sysctls and /dev/kmsg must be set up at every boot, not once at
provisioning. (Cgroups are the node image's business: kubegate-init roots them at the
container's own cgroup before systemd starts.)
"""

from __future__ import annotations

from kubegate.rig.spec import ClusterSpec, Node


def render_node_prep(spec: ClusterSpec, node: Node) -> str:
    routes = [
        f"ip route replace {m.pod_cidr} via {m.ip}"
        for m in spec.minions
        if m.name != node.name and m.pod_cidr
    ]
    lines = [
        "#!/usr/bin/env bash",
        "# Rendered by kubegate (kubegate/rig/render/nodeprep.py); runs at every boot.",
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
        ]
    return "\n".join(lines) + "\n"
