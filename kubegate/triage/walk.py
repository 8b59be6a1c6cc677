"""The walk: every hop in the order traffic takes it, within one time budget.

The first failing hop is the cause; later hops are still checked (while the budget lasts)
because the table is what `kubegate doctor` prints, but only the first names the cause.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import partial

from kubegate.collect.runner import Runner
from kubegate.triage import api_checks, broker_checks, node_checks, protocol_checks
from kubegate.triage.facts import Facts, gather
from kubegate.triage.finding import Finding, Triage
from kubegate.triage.path import ProbePath

BUDGET_S = float(os.environ.get("KUBEGATE_TRIAGE_BUDGET", "15"))
NO_SHELL = "needs a node shell (the local cluster's); not checked on this cluster"


def _plan(runner: Runner, f: Facts) -> list[tuple[str, Callable[[], Finding]]]:
    """(hop, check) in path order; node-shell hops only where the provider has node shells."""
    path = f.path
    steps: list[tuple[str, Callable[[], Finding]]] = [
        ("service", lambda: api_checks.service_exists(f)),
        ("backend pods", lambda: api_checks.backends_healthy(f)),
        ("endpoints", lambda: api_checks.endpoints_match_pods(f)),
    ]
    # The node whose kube-proxy rules the traffic meets first: the probe's own node, or for the
    # publicIP the node that owns that address.
    entry = path.origin or (f.node_of_ip(path.public_ip) if path.public_ip else None)
    if path.origin:
        steps.append(("origin node", lambda: api_checks.origin_ready(f, path.origin or "")))
    ready = [e for e in f.endpoints if e.ready]
    involved = sorted({n for n in (entry, *(e.node for e in ready)) if n})
    if entry:
        steps.append(("kube-proxy", lambda: node_checks.kube_proxy_active(runner, entry)))
        address, what = (f.cluster_ip, "ClusterIP") if path.origin else (path.public_ip, "externalIP")
        steps.append(("NAT rules", lambda: node_checks.nat_rules_cover(runner, f, entry, address or "", what)))
        steps += [("route", partial(node_checks.route_to_endpoint, runner, f, entry, ep)) for ep in ready]
        # every node pair the path uses, both ways: the client's node to each endpoint's, and back
        steps += [("route back", partial(node_checks.route_back, runner, f, entry, ep)) for ep in ready]
    steps += [("filter rules", partial(node_checks.no_filter_drop, runner, f, node)) for node in involved]
    steps += [("backend direct", partial(node_checks.backend_answers, runner, f, ep)) for ep in ready]
    # past the handshake (which the kernel completes even for a hung process): any cluster
    steps += [("backend protocol", partial(protocol_checks.backend_speaks, runner, f, ep)) for ep in ready]
    if path.service == "msg":
        steps += [("credentials", partial(broker_checks.broker_accepts_secret, runner, f, ep)) for ep in ready]
    return steps


SHELL_HOPS = ("kube-proxy", "NAT rules", "route", "route back", "filter rules", "backend direct")


def triage(runner: Runner, path: ProbePath, budget_s: float = BUDGET_S) -> Triage:
    started = time.monotonic()
    facts = gather(runner, path)
    result = Triage(path.describe())
    for hop, check in _plan(runner, facts):
        if hop in SHELL_HOPS and not runner.has_node_shell:
            if not any(f.hop == hop for f in result.findings):
                result.findings.append(Finding(hop, None, NO_SHELL))
            continue
        if time.monotonic() - started > budget_s:
            result.findings.append(Finding(hop, None, f"triage budget of {budget_s:.0f}s spent"))
            continue
        try:
            result.findings.append(check())
        except Exception as exc:  # a check's own failure is evidence, never a crash of the report
            result.findings.append(Finding(hop, None, f"check failed to run: {type(exc).__name__}: {exc}"))
    result.seconds = round(time.monotonic() - started, 2)
    return result
