"""LoadBalancer Services: waiting for the address an implementation assigns, and naming who did.

In loadbalancer mode (kube/publicip.py) a Service's public address exists only once some
implementation assigned it: waiting for TCP alone would blame kube-proxy for a pool that is
missing. So deploy waits for the assignment itself, and the report says which component
assigned the address and which node announces it (the Service's own events).
"""

from __future__ import annotations

import json
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube import publicip
from kubegate.kube.kubectl import Kubectl
from kubegate.wait import poll

ASSIGN_TIMEOUT_S = 60


def _events(k: Kubectl, name: str) -> list[dict[str, Any]]:
    res = k.run_e("get", "events", "--field-selector", f"involvedObject.kind=Service,involvedObject.name={name}",
                  "-o", "json", timeout=30)
    return json.loads(res.stdout).get("items", []) if res.returncode == 0 else []


def _line(event: dict[str, Any]) -> str:
    who = event.get("reportingComponent") or event.get("source", {}).get("component") or "?"
    return f"{who}: {event.get('reason')}: {event.get('message', '').strip()}"


def wait_assigned(k: Kubectl, names: list[str], ip: str, timeout: float = ASSIGN_TIMEOUT_S) -> None:
    """Every named Service has `ip` as its load-balancer address; else one line with its events."""
    pending = list(names)

    def check() -> bool | None:
        pending[:] = [n for n in pending if publicip.assigned(k.get_json("service", n)) != [ip]]
        return True if not pending else None

    poll(check, timeout=timeout, every=1, describe=lambda _: (
        f"Service {pending[0]} got no load-balancer address {ip} within {timeout:.0f} s "
        f"(status: {publicip.assigned(k.get_json('service', pending[0]))}); its events: "
        f"{'; '.join(_line(e) for e in _events(k, pending[0])[-3:]) or 'none'}; on the local cluster the "
        f"assigner is MetalLB: kubectl -n metallb-system get pods,ipaddresspools"))


def describe(k: Kubectl, name: str) -> str:
    """'10.245.1.240 from pool kubegate; metallb-controller: IPAllocated: ...; metallb-speaker: nodeAssigned: ...'."""
    svc = k.get_json("service", name)
    pool = svc["metadata"].get("annotations", {}).get("metallb.io/ip-allocated-from-pool")
    events = [e for e in _events(k, name) if e.get("type") == "Normal"]
    latest: dict[str, dict[str, Any]] = {}
    for e in sorted(events, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or ""):
        latest[str(e.get("reason"))] = e
    parts = [f"{', '.join(publicip.assigned(svc)) or 'no address'}" + (f" from pool {pool}" if pool else "")]
    parts += [_line(e) for e in latest.values()]
    if len(parts) == 1:
        raise KubegateError(f"Service {name} has {parts[0]} and no event says who assigned it")
    return "; ".join(parts)
