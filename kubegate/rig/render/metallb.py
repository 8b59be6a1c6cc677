"""MetalLB in L2 mode from upstream's own manifest: the rig's LoadBalancer implementation.

Since 1.36 `spec.externalIPs` (the seed's publicIPs) is deprecated; what users migrate to is a
`type: LoadBalancer` Service whose address some implementation assigns. On the rig that is
MetalLB: the controller assigns addresses from a pool on the node network (10.245.1.0/24), a
speaker on every minion answers ARP for them, and kube-proxy forwards as for any LB address.

The manifest is upstream's `config/manifests/metallb-native.yaml` of the module version built,
read from Go's module cache and changed only where the rig needs it: kubegate's image (nothing
can be pulled), no admission webhook (it needs cert rotation and fails closed; the controller
validates configuration itself), no memberlist (every minion runs a speaker, which is what
MetalLB then needs). A cloud-provider-kind would fit kind only: it finds kind's own containers
and starts envoy containers on the host.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from kubegate.errors import KubegateError
from kubegate.rig.spec import ClusterSpec

NAMESPACE = "metallb-system"
POOL = "kubegate"
#: where a Service's assigned address and its assigner can be read back
ALLOCATED_FROM = "metallb.io/ip-allocated-from-pool"
_DROP = {("ValidatingWebhookConfiguration", "metallb-webhook-configuration"),
         ("Service", "metallb-webhook-service"), ("Secret", "metallb-webhook-cert")}
_MEMBERLIST_ENV = {"METALLB_ML_BIND_ADDR", "METALLB_ML_LABELS", "METALLB_ML_SECRET_KEY_PATH",
                   "METALLB_ML_SECRET_NAME", "METALLB_HOST"}


def pool_range(spec: ClusterSpec) -> str:
    """The pool: the node network's .240-.250, above every address the rig gives out."""
    net = ipaddress.IPv4Network(spec.network)
    first, last = net.network_address + 240, net.network_address + 250
    taken = {spec.master_ip, *spec.minion_ips, spec.registry_ip}
    if any(first <= ipaddress.IPv4Address(ip) <= last for ip in taken):
        raise KubegateError(f"the load-balancer pool {first}-{last} overlaps the rig's own addresses")
    return f"{first}-{last}"


def render(native: Path, image: str, spec: ClusterSpec) -> list[dict[str, Any]]:
    """Upstream's native manifest, changed as the module docstring says, plus the L2 pool."""
    try:
        docs = [d for d in yaml.safe_load_all(native.read_text()) if d]
    except (OSError, yaml.YAMLError) as exc:
        raise KubegateError(f"cannot read MetalLB's manifest {native}: {exc}") from None
    out = []
    for doc in docs:
        kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
        if (kind, name) in _DROP:
            continue
        if kind == "CustomResourceDefinition":
            doc["spec"].pop("conversion", None)  # bgppeers' conversion webhook: no BGP here
        if kind in ("Deployment", "DaemonSet"):
            _workload(doc, image)
        out.append(doc)
    found = {(d["kind"], d["metadata"]["name"]) for d in out}
    if not {("Deployment", "controller"), ("DaemonSet", "speaker")} <= found:
        raise KubegateError(f"{native}: no controller Deployment and speaker DaemonSet; "
                            "is it MetalLB's native manifest?")
    return out


def pool(spec: ClusterSpec) -> list[dict[str, Any]]:
    """The address pool and its L2 announcement (applied once the CRDs are established)."""
    meta = {"name": POOL, "namespace": NAMESPACE}
    return [{"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": meta,
             "spec": {"addresses": [pool_range(spec)]}},
            {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": meta,
             "spec": {"ipAddressPools": [POOL]}}]


def _workload(doc: dict[str, Any], image: str) -> None:
    pod = doc["spec"]["template"]["spec"]
    for c in pod["containers"]:
        binary = c["name"]  # controller, speaker: the binaries' names in kubegate's image
        c["image"], c["imagePullPolicy"], c["command"] = image, "Never", [f"/{binary}"]
        c["env"] = [e for e in c.get("env", []) if e["name"] not in _MEMBERLIST_ENV]
        if binary == "controller":
            c["args"] = [*c.get("args", []), "--webhook-mode=disabled"]
            c["ports"] = [p for p in c.get("ports", []) if p.get("name") != "webhook-server"]
        c["volumeMounts"] = [m for m in c.get("volumeMounts", []) if m["name"] not in ("cert", "memberlist")]
        c["ports"] = [p for p in c.get("ports", []) if not p.get("name", "").startswith("memberlist")]
    pod["volumes"] = [v for v in pod.get("volumes", []) if v["name"] not in ("cert", "memberlist")]
