"""The seed's consumers: a Pulp-shaped application created after db and msg (the seed's order).

Workers, beat and the web API find the providers only through the Services' environment
variables and the Secret's login (see cluster/workloads/pulp). kubegate gives the web API a
serving certificate for the publicIP from the provider's CA and waits until every consumer
is Ready: workers only once connected to the broker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubegate.kube import publicip, stamps, topology
from kubegate.kube.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.report.progress import Progress
from kubegate.services import loadbalancer, manifests, unchanged, webtls
from kubegate.services.deploy import SERVICES, Deployment, manifest_values, replace_stale_pods, wait_accepting
from kubegate.wait import poll

CONTROLLERS = {"pulp-worker": 3, "pulp-beat": 1, "pulp-web": 1}
TLS_SECRET = "pulp-web-tls"
CA_ANNOTATION = "kubegate.io/ca-sha256"  # the issuing CA's certificate digest (16 hex digits)


@dataclass(frozen=True)
class App:
    namespace: str
    public_ip: str
    http_port: int
    https_port: int
    ca_file: Path  # verifies the HTTPS certificate

    @property
    def https(self) -> str:
        return f"https://{self.public_ip}:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://{self.public_ip}:{self.http_port}"


def _tls_secret(k: Kubectl, provider: ClusterProvider, namespace: str) -> tuple[Path, bool]:
    """(the CA to verify with, whether an existing certificate was replaced). Issued once per
    namespace, publicIP and CA: a later run that holds the same CA reuses it. A run holding
    another CA (another state directory: a fresh CI runner on your cluster, an installed kubegate
    beside a checkout) issues its own, and the web pods are replaced to serve it; otherwise its
    client could not verify what the kept pods serve."""
    ca_cert, ca_key = provider.serving_ca()
    fingerprint = hashlib.sha256(ca_cert.read_bytes()).hexdigest()[:16]
    want = {"kubegate.io/ip": provider.public_ip, CA_ANNOTATION: fingerprint}
    res = k.run_e("get", "secret", TLS_SECRET, "-o", "json")
    if res.returncode == 0:
        have = json.loads(res.stdout)["metadata"].get("annotations") or {}
        if all(have.get(key) == value for key, value in want.items()):
            return ca_cert, False
    pair = webtls.issue(ca_cert, ca_key, provider.public_ip, names=("web", f"web.{namespace}.svc"))
    k.apply(json.dumps({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
                        "metadata": {"name": TLS_SECRET, "annotations": want},
                        "data": {"tls.crt": base64.b64encode(pair.cert_pem).decode(),
                                 "tls.key": base64.b64encode(pair.key_pem).decode()}}))
    return ca_cert, res.returncode == 0


def wait_ready_pods(k: Kubectl, name: str, want: int, timeout: float = 180) -> None:
    """`want` Ready pods labelled name=NAME (a controller may still be creating some)."""
    deadline = time.monotonic() + timeout
    ready: list[dict[str, Any]] = []

    def enough() -> bool | None:
        nonlocal ready
        k.wait("pod", "condition=Ready", timeout=max(5.0, deadline - time.monotonic()), selector=f"name={name}",
               needs=f"name in ({','.join(SERVICES)})")
        pods = k.get_json("pods", "-l", f"name={name}")["items"]
        ready = [p for p in pods if not p["metadata"].get("deletionTimestamp") and topology.is_ready(p)]
        return True if len(ready) >= want else None

    poll(enough, timeout=timeout, every=1, describe=lambda _: f"{len(ready)} of {want} {name} pods Ready after "
         f"{timeout:.0f} s")


def deploy_app(provider: ClusterProvider, deployment: Deployment, progress: Progress | None = None) -> App:
    ns = deployment.namespace
    prog = progress or Progress("kubegate deploy")
    k = provider.kubectl(ns)
    values = manifest_values(provider, ns, provider.images(), app=True)
    service = manifests.load_manifest("pulp-web-service", values)
    controllers = {name: manifests.load_manifest(f"{name}-rc", values) for name in CONTROLLERS}
    digest = stamps.digest_of([*service, *(d for objs in controllers.values() for d in objs)])
    with prog.phase("deploy: pulp app"):
        ca, reissued = _tls_secret(k, provider, ns)
        listing = unchanged.Listing.read(k)
        # Pods younger than db and msg: they found them through the Services' variables.
        fresh = listing is not None and listing.stale(digest, ["web"], CONTROLLERS, discovered=SERVICES) is None
        if fresh and not reissued:
            return read_app(provider, deployment, ca, listing.get("Service", "web") if listing else None)
        k.apply(stamps.stamped(service, digest))
        for name, objs in controllers.items():
            k.apply(stamps.stamped(objs, digest))
            replace_stale_pods(k, name)
        if reissued:  # gunicorn reads its certificate at start
            k.run("delete", "pod", "-l", "name=pulp-web", "--wait=false")
    with prog.phase("deploy: pulp app ready"):
        for name, want in CONTROLLERS.items():
            wait_ready_pods(k, name, want)
        app = read_app(provider, deployment, ca)
        if publicip.mode() == publicip.LOAD_BALANCER:
            loadbalancer.wait_assigned(k, ["web"], app.public_ip)
        wait_accepting(app.public_ip, [app.http_port, app.https_port], "the pulp web API's pods")
    return app


def read_app(provider: ClusterProvider, deployment: Deployment, ca: Path | None = None,
             svc: dict[str, Any] | None = None) -> App:
    """What deploy_app made, read back (later xdist workers of a run)."""
    svc = svc or provider.kubectl(deployment.namespace).get_json("service", "web")
    ports = {p["name"]: int(p["port"]) for p in svc["spec"]["ports"]}
    return App(deployment.namespace, provider.public_ip, ports["http"], ports["https"],
               ca or provider.serving_ca()[0])
