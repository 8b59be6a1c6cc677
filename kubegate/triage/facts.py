"""The API objects every check reads, fetched once per walk (one `get` each, not one per check)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kubegate.collect.runner import Runner
from kubegate.kube.kubectl import event_time
from kubegate.kube.topology import is_ready
from kubegate.triage.path import ProbePath


@dataclass
class Endpoint:
    address: str
    ready: bool
    pod: str | None  # targetRef name, if any
    node: str | None
    slice: str


@dataclass
class Facts:
    path: ProbePath
    service: dict[str, Any] | None
    pods: list[dict[str, Any]]
    endpoints: list[Endpoint]
    nodes: dict[str, dict[str, Any]]
    errors: list[str] = field(default_factory=list)
    #: the namespace's Warning events (Unhealthy with a probe's output, BackOff, ...), oldest first
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def warnings_of(self, pod: str) -> list[dict[str, Any]]:
        return [e for e in self.warnings if (e.get("involvedObject") or {}).get("name") == pod]

    @property
    def port(self) -> int | None:
        ports = (self.service or {}).get("spec", {}).get("ports") or []
        return int(ports[0]["port"]) if ports else None

    @property
    def target_port(self) -> int | None:
        ports = (self.service or {}).get("spec", {}).get("ports") or []
        if not ports:
            return None
        target = ports[0].get("targetPort", ports[0]["port"])
        return int(target) if str(target).isdigit() else int(ports[0]["port"])

    @property
    def cluster_ip(self) -> str | None:
        ip = (self.service or {}).get("spec", {}).get("clusterIP")
        return str(ip) if ip else None

    def node_ip(self, name: str | None) -> str | None:
        node = self.nodes.get(name or "")
        ips = [a["address"] for a in (node or {}).get("status", {}).get("addresses", []) if a["type"] == "InternalIP"]
        return ips[0] if ips else None

    def node_of_ip(self, ip: str) -> str | None:
        return next((n for n in self.nodes if self.node_ip(n) == ip), None)

    def ready_pods(self) -> list[dict[str, Any]]:
        return [p for p in self.pods if is_ready(p) and not p["metadata"].get("deletionTimestamp")]


def _json(runner: Runner, args: list[str], errors: list[str]) -> Any:
    res = runner.kubectl([*args, "-o", "json"], 15)
    if not res.ok:
        errors.append(f"kubectl {' '.join(args)}: {res.error()}")
        return None
    return json.loads(res.stdout)


def gather(runner: Runner, path: ProbePath) -> Facts:
    errors: list[str] = []
    ns = ["-n", path.namespace]
    service = _json(runner, ["get", "service", path.service, *ns], errors)
    selector = ",".join(f"{k}={v}" for k, v in ((service or {}).get("spec", {}).get("selector") or {}).items())
    pods = (_json(runner, ["get", "pods", "-l", selector, *ns], errors) or {}).get("items", []) if selector else []
    slices = (_json(runner, ["get", "endpointslices", "-l", f"kubernetes.io/service-name={path.service}", *ns],
                    errors) or {}).get("items", [])
    endpoints = [Endpoint(addr, bool(ep.get("conditions", {}).get("ready")), (ep.get("targetRef") or {}).get("name"),
                          ep.get("nodeName"), s["metadata"]["name"])
                 for s in slices for ep in s.get("endpoints") or [] for addr in ep.get("addresses", [])]
    nodes = {n["metadata"]["name"]: n for n in (_json(runner, ["get", "nodes"], errors) or {}).get("items", [])}
    events = _json(runner, ["get", "events", *ns, "--field-selector", "type=Warning"], errors) or {}
    warnings: list[dict[str, Any]] = events.get("items", [])
    warnings.sort(key=event_time)
    return Facts(path, service, pods, endpoints, nodes, errors, warnings)
