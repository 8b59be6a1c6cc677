"""What the live cluster looks like: its schedulable nodes and its service CIDRs, read from the API.

Suites that check "from every node" or "inside the portal net" take these from the cluster
they run against, never from the local rig's spec: on any other cluster the minion names
and 10.247.0.0/16 would be wrong, and a test built on them would skip or lie.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube.kubectl import Kubectl
from kubegate.kube.kubectl import is_ready as is_ready  # re-exported: "Ready" is read here by most callers

#: taints that keep ordinary pods (the suites' clients) off a node
BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
#: the taints kubeadm and most distributions put on control-plane nodes: ordinary workloads never
#: run there, so "every node" does not mean them
CONTROL_PLANE_TAINTS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")


@dataclass(frozen=True)
class NodeInfo:
    name: str
    internal_ip: str | None
    pod_cidrs: tuple[str, ...]
    kubelet_version: str


def is_schedulable(node: dict[str, Any]) -> bool:
    spec = node.get("spec", {})
    if spec.get("unschedulable"):
        return False
    return not any(t.get("effect") in BLOCKING_EFFECTS for t in spec.get("taints") or [])


def node_info(node: dict[str, Any]) -> NodeInfo:
    status = node.get("status", {})
    ips = [a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"]
    spec = node.get("spec", {})
    cidrs = tuple(spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else []))
    return NodeInfo(node["metadata"]["name"], ips[0] if ips else None, cidrs,
                    status.get("nodeInfo", {}).get("kubeletVersion", ""))


def schedulable_ready(items: list[dict[str, Any]]) -> list[NodeInfo]:
    """Ready nodes ordinary pods may land on, sorted by name (stable test ids on every worker)."""
    return sorted((node_info(n) for n in items if is_ready(n) and is_schedulable(n)), key=lambda n: n.name)


@dataclass(frozen=True)
class WorkerScope:
    """What "every node" means on a cluster: the worker nodes the API lists. ``nodes`` are those
    per-node tests run on; ``left_out`` are workers they cannot run on now (name, why), which the
    verdict must name; ``out_of_scope`` are control-plane nodes (tainted for it), listed only."""

    nodes: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...] = ()
    out_of_scope: tuple[tuple[str, str], ...] = ()


def _control_plane(node: dict[str, Any]) -> bool:
    return any(t.get("key") in CONTROL_PLANE_TAINTS and t.get("effect") in BLOCKING_EFFECTS
               for t in node.get("spec", {}).get("taints") or [])


def why_left_out(node: dict[str, Any]) -> str:
    """'' for a worker per-node tests can run on; else what keeps them off it, as kubectl shows it."""
    spec = node.get("spec", {})
    if not is_ready(node):
        return "NotReady"
    if spec.get("unschedulable"):
        return "cordoned"
    taints = [f"{t.get('key')}:{t.get('effect')}" for t in spec.get("taints") or []
              if t.get("effect") in BLOCKING_EFFECTS]
    return f"tainted {', '.join(taints)}" if taints else ""


def worker_scope(items: list[dict[str, Any]]) -> WorkerScope:
    nodes, left_out, out_of_scope = [], [], []
    for node in sorted(items, key=lambda n: n["metadata"]["name"]):
        name = node["metadata"]["name"]
        if _control_plane(node):
            out_of_scope.append((name, "control plane"))
        elif why := why_left_out(node):
            left_out.append((name, why))
        else:
            nodes.append(name)
    return WorkerScope(tuple(nodes), tuple(left_out), tuple(out_of_scope))


def read_nodes(k: Kubectl) -> list[dict[str, Any]]:
    res = k.run_e("get", "nodes", "-o", "json", timeout=30)
    if res.returncode != 0:
        err = res.stderr.strip().splitlines()
        raise KubegateError(f"cannot reach the API server to list the nodes: {err[-1] if err else 'no answer'} "
                            f"(check --kubeconfig {k.kubeconfig} and --context)")
    items: list[dict[str, Any]] = json.loads(res.stdout).get("items", [])
    return items


def service_cidrs(k: Kubectl) -> list[str]:
    """The ranges ClusterIPs are allocated from (ServiceCIDR objects, networking.k8s.io/v1 since
    Kubernetes 1.33). Raises naming the cause when the cluster does not publish them."""
    res = k.run_e("get", "servicecidrs.networking.k8s.io", "-o", "json", timeout=30)
    if res.returncode != 0:
        err = res.stderr.strip().splitlines()
        raise KubegateError(f"cannot read the cluster's service CIDRs (ServiceCIDR objects, Kubernetes >= 1.33): "
                            f"{err[-1] if err else 'no answer'}")
    cidrs = [c for item in json.loads(res.stdout).get("items", []) for c in item.get("spec", {}).get("cidrs", [])]
    if not cidrs:
        raise KubegateError("the cluster lists no ServiceCIDR ranges")
    return cidrs


def in_cidrs(ip: str, cidrs: list[str]) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr in ipaddress.ip_network(c) for c in cidrs)
