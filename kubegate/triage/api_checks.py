"""Hops the API can answer: the Service, the pods behind it, its EndpointSlices, the nodes.

They need no node shell, so they run on any cluster (`--cluster=existing` included)."""

from __future__ import annotations

from kubegate.kube import publicip
from kubegate.kube.kubectl import describe_state, hopeless_reason
from kubegate.kube.topology import is_ready
from kubegate.triage.facts import Facts
from kubegate.triage.finding import Finding

RESTART_LIMIT = 3


def service_exists(f: Facts) -> Finding:
    if f.service is None:
        return Finding("service", False, f"Service {f.path.namespace}/{f.path.service} does not exist",
                       evidence="; ".join(f.errors))
    if f.port is None:
        return Finding("service", False, f"Service {f.path.service} has no ports")
    ext = f.service["spec"].get("externalIPs") or []
    lb = publicip.assigned(f.service)
    if f.path.public_ip and f.path.public_ip not in ext + lb:
        return Finding("service", False, f"Service {f.path.service} does not list {f.path.public_ip} in externalIPs "
                                         f"(it has {ext or 'none'}) nor as its load-balancer address "
                                         f"({lb or 'none assigned'})")
    public = f"externalIPs {ext or 'none'}" + (f", load-balancer address {', '.join(lb)}" if lb else "")
    return Finding("service", True, f"{f.path.service} {f.cluster_ip}:{f.port}, {public}")


def backends_healthy(f: Facts) -> Finding:
    """Selected pods exist, one is Ready, and none is crash-looping, OOM-killed or restarting."""
    if not f.pods:
        sel = (f.service or {}).get("spec", {}).get("selector")
        return Finding("backend pods", False, f"no pod matches {f.path.service}'s selector {sel}")
    for pod in f.pods:
        name = pod["metadata"]["name"]
        node = pod["spec"].get("nodeName")
        hopeless = hopeless_reason(pod)  # the same judgement the waits stop on
        if hopeless:
            return Finding("backend pods", False, f"{name} on {node}: {hopeless}", node, describe_state(pod))
        for cs in pod.get("status", {}).get("containerStatuses") or []:
            last = (cs.get("lastState") or {}).get("terminated") or {}
            if last.get("reason") == "OOMKilled":
                return Finding("backend pods", False, f"{name} on {node} was OOM-killed", node,
                               f"restartCount {cs.get('restartCount')}")
            if int(cs.get("restartCount", 0)) >= RESTART_LIMIT:
                return Finding("backend pods", False, f"{name} on {node} restarted {cs['restartCount']} times", node,
                               f"last exit: {last.get('reason', '?')} {last.get('exitCode', '')}")
    if not f.ready_pods():
        return Finding("backend pods", False, f"no {f.path.service} pod is Ready "
                                              f"({', '.join(p['metadata']['name'] for p in f.pods)})")
    return Finding("backend pods", True, ", ".join(f"{p['metadata']['name']} on {p['spec'].get('nodeName')}"
                                                   for p in f.ready_pods()))


def endpoints_match_pods(f: Facts) -> Finding:
    """Ready endpoints are exactly the Ready pods' IPs: a stale address (no such pod) or a pod
    missing from the slices both send traffic astray."""
    pod_ips = {p["status"].get("podIP"): p["metadata"]["name"] for p in f.ready_pods()}
    ready = [e for e in f.endpoints if e.ready]
    stale = [e for e in ready if e.address not in pod_ips]
    if stale:
        e = stale[0]
        return Finding("endpoints", False, f"stale endpoint {e.address} in EndpointSlice {e.slice} "
                                           f"(no Ready {f.path.service} pod has that IP)", e.node,
                       "ready endpoints: " + ", ".join(f"{x.address} ({x.slice})" for x in ready))
    missing = sorted(set(pod_ips) - {e.address for e in ready})
    if missing:
        return Finding("endpoints", False, f"Ready pod {pod_ips[missing[0]]} ({missing[0]}) is not a ready endpoint "
                                           f"of {f.path.service}")
    if not ready:
        return Finding("endpoints", False, f"{f.path.service} has no ready endpoint")
    return Finding("endpoints", True, ", ".join(sorted(e.address for e in ready)))


def origin_ready(f: Facts, node: str) -> Finding:
    obj = f.nodes.get(node)
    if obj is None:
        return Finding("origin node", False, f"node {node} is not registered", node)
    if not is_ready(obj):
        cond: dict[str, str] = next((c for c in obj["status"].get("conditions", []) if c["type"] == "Ready"), {})
        return Finding("origin node", False, f"node {node} is not Ready ({cond.get('reason', '?')})", node,
                       cond.get("message", ""))
    return Finding("origin node", True, f"{node} Ready", node)
