"""The path a probe took: which Service, from where, through which address."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProbePath:
    namespace: str
    service: str  # db or msg (any Service name)
    origin: str | None  # the node the probe ran on; None: the host, through the publicIP
    public_ip: str | None = None  # the externalIP a host probe used

    @property
    def via(self) -> str:
        return "portal IP" if self.origin else "publicIP"

    def describe(self) -> str:
        where = f"from a pod on {self.origin}" if self.origin else "from the host"
        return f"{self.namespace}/{self.service} via {self.via} {where}"
