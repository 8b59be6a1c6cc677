"""Hops only a node shell can see: kube-proxy, NAT rules, routes, filter rules, the backend
answering on its pod IP. On clusters without node shells they are reported as not checked."""

from __future__ import annotations

import ipaddress
import re

from kubegate.collect.runner import Runner
from kubegate.triage.facts import Endpoint, Facts
from kubegate.triage.finding import Finding

TIMEOUT = 10


def _run(runner: Runner, node: str, command: str) -> tuple[bool, str]:
    res = runner.node(node, command, TIMEOUT)
    return res.ok, (res.stdout.strip() if res.ok else res.error())


def kube_proxy_active(runner: Runner, node: str) -> Finding:
    cmd = "systemctl is-active kube-proxy"
    res = runner.node(node, cmd + " || true", TIMEOUT)
    state = res.stdout.strip() or res.error()
    if state != "active":
        return Finding("kube-proxy", False, f"kube-proxy {state} on {node}", node, f"`{cmd}` on {node} -> {state}")
    return Finding("kube-proxy", True, f"kube-proxy active on {node}", node)


def nat_rules_cover(runner: Runner, f: Facts, node: str, address: str, what: str) -> Finding:
    """kube-proxy's KUBE-SERVICES has a rule for address:port (the ClusterIP, or the externalIP)."""
    cmd = "sudo iptables-save -t nat"
    ok, out = _run(runner, node, cmd)
    if not ok:
        return Finding("NAT rules", None, f"could not read NAT rules on {node}: {out}", node)
    pattern = re.compile(rf"-A KUBE-SERVICES .*-d {re.escape(address)}/32 .*--dport {f.port}\b")
    lines = [ln for ln in out.splitlines() if pattern.search(ln)]
    if not lines:
        return Finding("NAT rules", False, f"no kube-proxy NAT rule for {what} {address}:{f.port} on {node}", node,
                       f"`{cmd} | grep {address}` on {node} -> nothing in KUBE-SERVICES")
    return Finding("NAT rules", True, f"{what} {address}:{f.port} programmed on {node}", node, lines[0])


def route_to_endpoint(runner: Runner, f: Facts, node: str, ep: Endpoint) -> Finding:
    """Traffic to a pod on another node must leave through that node (static pod routes), not the
    default route; to a pod on this node, through the local bridge."""
    cmd = f"ip route get {ep.address}"
    ok, out = _run(runner, node, cmd)
    if not ok:
        return Finding("route", False, f"no route from {node} to endpoint {ep.address}: {out}", node, cmd)
    if ep.node == node:
        return Finding("route", True, f"{ep.address} is local on {node}", node, out.splitlines()[0])
    want = f.node_ip(ep.node)
    if want and f" via {want} " not in f" {out} ":
        return Finding("route", False, f"{node} routes {ep.address} ({ep.pod} on {ep.node}) not via {ep.node} "
                                       f"({want})", node, f"`{cmd}` on {node} -> {out.splitlines()[0]}")
    return Finding("route", True, f"{node} -> {ep.address} via {ep.node}", node, out.splitlines()[0])


def route_back(runner: Runner, f: Facts, node: str, ep: Endpoint) -> Finding:
    """The reply's way: from the endpoint's node back to the client node's pods (its pod CIDR),
    through that node, not the default route. A one-way route breaks every exchange as surely."""
    back = ep.node
    spec = f.nodes.get(node, {}).get("spec", {})
    cidr = (spec.get("podCIDRs") or [spec.get("podCIDR")])[0] if (spec.get("podCIDRs") or spec.get("podCIDR")) else None
    if not back or back == node or not cidr:
        return Finding("route back", True, f"{ep.address} answers from {node} itself" if back == node
                       else "no pod CIDR to check the way back to", back)
    target = str(next(ipaddress.ip_network(cidr, strict=False).hosts()))
    cmd = f"ip route get {target}"
    ok, out = _run(runner, back, cmd)
    want = f.node_ip(node)
    if not ok:
        return Finding("route back", False, f"no route from {back} back to {node}'s pods ({cidr}): {out}", back, cmd)
    if want and f" via {want} " not in f" {out} ":
        return Finding("route back", False, f"{back} routes {node}'s pods ({cidr}) not via {node} ({want})", back,
                       f"`{cmd}` on {back} -> {out.splitlines()[0]}")
    return Finding("route back", True, f"{back} -> {node}'s pods via {node}", back, out.splitlines()[0])


def no_filter_drop(runner: Runner, f: Facts, node: str) -> Finding:
    """No DROP/REJECT for the Service's ports outside kube-proxy's own chains."""
    cmd = "sudo iptables-save -t filter"
    ok, out = _run(runner, node, cmd)
    if not ok:
        return Finding("filter rules", None, f"could not read filter rules on {node}: {out}", node)
    ports = {p for p in (f.port, f.target_port) if p}
    bad = [ln for ln in out.splitlines()
           if ln.startswith("-A ") and not ln.split()[1].startswith("KUBE-") and re.search(r"-j (DROP|REJECT)\b", ln)
           and any(re.search(rf"--dports? (\S+,)?{p}\b", ln) for p in ports)]
    if bad:
        return Finding("filter rules", False, f"a filter rule drops tcp/{'/'.join(map(str, sorted(ports)))} on {node}",
                       node, f"`{cmd}` on {node} -> {bad[0]}")
    return Finding("filter rules", True, f"nothing drops {sorted(ports)} on {node}", node)


def backend_answers(runner: Runner, f: Facts, ep: Endpoint) -> Finding:
    """The backend accepts a TCP connection on its pod IP from its own node: separates the
    Service plumbing from the backend's own health."""
    node = ep.node
    if not node:
        return Finding("backend direct", None, f"endpoint {ep.address} names no node")
    port = f.target_port
    cmd = f"timeout 3 bash -c '</dev/tcp/{ep.address}/{port}' && echo open"
    ok, out = _run(runner, node, cmd)
    if not ok or "open" not in out:
        return Finding("backend direct", False, f"{ep.pod or ep.address} does not accept connections on "
                                                f"{ep.address}:{port} (from its own node {node})", node,
                       f"`{cmd}` on {node} -> {out or 'refused/timed out'}")
    return Finding("backend direct", True, f"{ep.pod} answers on {ep.address}:{port}", node)
