"""Hops the API can answer: the Service, the pods behind it, its EndpointSlices, the nodes.

They need no node shell, so they run on any cluster (`--cluster=existing` included)."""

from __future__ import annotations

import datetime as dt
import time

from kubegate.kube import publicip
from kubegate.kube.kubectl import describe_state, hopeless_reason, warning_line
from kubegate.kube.topology import is_ready
from kubegate.triage.facts import Facts
from kubegate.triage.finding import Finding

#: a restart this recent (before the walk) is current evidence; an older one is history
RECENT_S = 300


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


def _ago(stamp: str | None, now: float) -> float | None:
    """Seconds since an RFC 3339 time the API wrote (lastState.terminated.finishedAt)."""
    if not stamp:
        return None
    try:
        return now - dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _clock(stamp: str) -> str:
    """'19:46:57Z' of an RFC 3339 time: the day is the run's."""
    return stamp.split("T", 1)[-1] if "T" in stamp else stamp


def backends_healthy(f: Facts, now: float | None = None) -> Finding:
    """Selected pods exist, one is Ready, and none is crash-looping or restarted recently. A
    restart counts only within RECENT_S before the walk (the last termination's time): a
    cumulative restartCount is history, shown beside a healthy verdict, never a cause."""
    now = time.time() if now is None else now
    if not f.pods:
        sel = (f.service or {}).get("spec", {}).get("selector")
        return Finding("backend pods", False, f"no pod matches {f.path.service}'s selector {sel}")
    history: list[str] = []
    for pod in f.pods:
        name = pod["metadata"]["name"]
        node = pod["spec"].get("nodeName")
        hopeless = hopeless_reason(pod)  # the same judgement the waits stop on
        if hopeless:
            return Finding("backend pods", False, f"{name} on {node}: {hopeless}", node, describe_state(pod))
        for cs in pod.get("status", {}).get("containerStatuses") or []:
            last = (cs.get("lastState") or {}).get("terminated") or {}
            if not last:
                continue
            ago = _ago(last.get("finishedAt"), now)
            exit_ = f"{last.get('reason', '?')}, exit {last.get('exitCode', '?')}"
            restarts = int(cs.get("restartCount", 0))
            if ago is not None and ago <= RECENT_S:
                # the time, not "N s ago", and the warnings without counts: every failure the same
                # restart explains gets the same line, so they group as one cause
                what = "was OOM-killed" if last.get("reason") == "OOMKilled" else "restarted"
                warned = warning_line(f.warnings_of(name), counts=False).removeprefix("events: ")
                return Finding("backend pods", False, f"{name} on {node} {what} at {_clock(last['finishedAt'])} "
                                                      f"({exit_}; {restarts} restarts in all)"
                                                      + (f" after: {warned}" if warned else ""), node,
                               f"lastState.terminated.finishedAt {last.get('finishedAt')}, {ago:.0f} s before the walk")
            when = f"{ago / 60:.0f} min ago" if ago is not None else "at an unknown time"
            history.append(f"{name}: {restarts} restarts, the last {when} ({exit_})")
    if not f.ready_pods():
        # what the kubelet says about each: its probes' own failures, the restarts' reasons
        why = [f"{p['metadata']['name']} on {p['spec'].get('nodeName')}"
               + (f" ({line.removeprefix('events: ')})"
                  if (line := warning_line(f.warnings_of(p['metadata']['name']), counts=False)) else "")
               for p in f.pods]
        return Finding("backend pods", False, f"no {f.path.service} pod is Ready: {'; '.join(why)}",
                       f.pods[0]["spec"].get("nodeName"), " | ".join(describe_state(p) for p in f.pods))
    return Finding("backend pods", True, ", ".join(f"{p['metadata']['name']} on {p['spec'].get('nodeName')}"
                                                   for p in f.ready_pods()),
                   evidence=("history, not a cause: " + "; ".join(history)) if history else "")


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
