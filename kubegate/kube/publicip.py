"""How the Services' public address is made: the seed's publicIPs (externalIPs) or a LoadBalancer.

The 2014 seed exposed `db` and `msg` on `publicIPs`, today `spec.externalIPs`, which 1.36
deprecated (KEP-5707). Users move to `type: LoadBalancer`, where an implementation (a cloud's,
MetalLB on the rig) assigns the address. kubegate proves the services both ways: the manifests
keep the seed's shape, and in `loadbalancer` mode each Service carrying externalIPs becomes a
LoadBalancer asking for the same address (MetalLB's `metallb.io/loadBalancerIPs`, one address
shared by db, msg and web as their externalIP was), so every publicIP test runs unchanged.
"""

from __future__ import annotations

import os
from typing import Any

from kubegate.errors import KubegateError

MODE_ENV = "KUBEGATE_PUBLIC_IP_MODE"
EXTERNAL_IPS, LOAD_BALANCER = "externalIPs", "loadbalancer"
MODES = (EXTERNAL_IPS, LOAD_BALANCER)
ASK_IP = "metallb.io/loadBalancerIPs"
SHARE = "metallb.io/allow-shared-ip"
SHARE_KEY = "kubegate-public"


def mode() -> str:
    """The mode this process was asked for (option or environment), externalIPs by default."""
    value = os.environ.get(MODE_ENV, "").strip() or EXTERNAL_IPS
    if value not in MODES:
        raise KubegateError(f"--public-ip-mode {value!r}: choose {' or '.join(MODES)} ({MODE_ENV})")
    return value


def shape(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """In loadbalancer mode, every Service with externalIPs asks a load balancer for that address instead."""
    if mode() != LOAD_BALANCER:
        return docs
    for doc in docs:
        if doc.get("kind") != "Service" or not doc.get("spec", {}).get("externalIPs"):
            continue
        spec = doc["spec"]
        [ip] = spec.pop("externalIPs")[:1] or [""]
        spec["type"] = "LoadBalancer"
        notes = doc["metadata"].setdefault("annotations", {})
        notes[ASK_IP], notes[SHARE] = ip, SHARE_KEY
    return docs


def assigned(service: dict[str, Any]) -> list[str]:
    """The addresses a load balancer assigned the Service (status.loadBalancer.ingress)."""
    return [i.get("ip") or i.get("hostname", "") for i in
            service.get("status", {}).get("loadBalancer", {}).get("ingress", []) or []]
