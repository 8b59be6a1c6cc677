"""Deploy the seed's services: Services first, then the controllers that back them.

Order matters, as the seed explains: a pod only gets `DB_SERVICE_HOST` and friends when
the Service existed before the pod started. So the Services are created and given
their ClusterIPs first, then the ReplicationControllers, then we wait until each
Service has a ready endpoint. Re-running is cheap: every object carries the digest of the
manifests it came from, so a warm cluster is recognised from one listing (services.unchanged)
and nothing is applied.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube import namespaces, publicip, stamps
from kubegate.kube.kubectl import Kubectl
from kubegate.kube.namespaces import OWNER_LABEL, SHARED_LABEL
from kubegate.providers.base import ClusterProvider
from kubegate.report.progress import Progress
from kubegate.services import loadbalancer, manifests, unchanged
from kubegate.wait import poll

SERVICES = ("db", "msg")
DEFAULT_NAMESPACE = "pulp"
SECRET = "msg-credentials"


@dataclass
class Deployment:
    namespace: str
    public_ip: str
    cluster_ips: dict[str, str]
    ports: dict[str, int]
    images: dict[str, str]
    credentials: tuple[str, str] = field(repr=False)

    def describe(self) -> str:
        lines = [f"namespace {self.namespace}; publicIP ({publicip.mode()}) {self.public_ip}"]
        for name in SERVICES:
            lines.append(f"  {name:4} portal IP {self.cluster_ips[name]}:{self.ports[name]}  "
                         f"public {self.public_ip}:{self.ports[name]}  image {self.images[name]}")
        lines.append(f"  credentials for msg: kubectl -n {self.namespace} get secret {SECRET} -o yaml")
        return "\n".join(lines)


def _ensure_namespace(k: Kubectl, namespace: str, extra: str = "") -> None:
    """The services' namespace is shared by runs (externalIPs cannot be duplicated), so it
    is labelled as kubegate's and shared: sweep leaves it alone. `extra` (the provider's pull
    Secret) goes in once the namespace exists."""
    namespaces.create(k, namespace, {OWNER_LABEL: "kubegate", SHARED_LABEL: "true"}, extra)


def credentials(k: Kubectl) -> tuple[str, str]:
    """The broker's user, generated once per cluster and kept only in the Secret itself."""
    res = k.run_e("get", "secret", SECRET, "-o", "json")
    if res.returncode == 0:
        return _decode_credentials(json.loads(res.stdout))
    if "NotFound" not in res.stderr:
        raise KubegateError(f"cannot read Secret {SECRET}: {res.stderr.strip()}")
    user, password = "pulp", secrets.token_urlsafe(18)
    k.run("create", "secret", "generic", SECRET, f"--from-literal=username={user}",
          f"--from-literal=password={password}")
    return user, password


MANIFESTS = ("db-service", "msg-service", "db-rc", "msg-rc")


def _decode_credentials(secret: dict[str, Any]) -> tuple[str, str]:
    data = secret["data"]
    return base64.b64decode(data["username"]).decode(), base64.b64decode(data["password"]).decode()


def deploy(provider: ClusterProvider, namespace: str | None = None, progress: Progress | None = None) -> Deployment:
    ns = namespace or DEFAULT_NAMESPACE
    prog = progress or Progress("kubegate deploy")
    k = provider.kubectl(ns)
    images = provider.images()
    values = manifest_values(provider, ns, images)
    docs = {name: manifests.load_manifest(name, values) for name in MANIFESTS}
    # The pull Secret (the namespace's extra objects) stays out of the digest: it holds a login,
    # and running pods do not depend on it.
    digest = stamps.digest_of(d for objs in docs.values() for d in objs)
    with prog.phase("deploy: in place?"):
        found = in_place(k, digest, ns)
    if found is not None:
        cluster_ips, ports, creds = found
        return Deployment(ns, provider.public_ip, cluster_ips, ports, images, creds)
    with prog.phase("deploy: services"):
        _ensure_namespace(provider.kubectl(), ns, provider.namespace_manifest(ns))
        creds = credentials(k)
        for name in SERVICES:
            k.apply(stamps.stamped(docs[f"{name}-service"], digest))
        cluster_ips, ports = _service_addresses(k, ns)
    with prog.phase("deploy: controllers"):
        for name in SERVICES:
            k.apply(stamps.stamped(docs[f"{name}-rc"], digest))
            replace_stale_pods(k, name)
    with prog.phase("deploy: endpoints ready"):
        for name in SERVICES:
            wait_endpoints(k, name)
        if publicip.mode() == publicip.LOAD_BALANCER:
            loadbalancer.wait_assigned(k, list(SERVICES), provider.public_ip)
        wait_accepting(provider.public_ip, [ports[name] for name in SERVICES], "db and msg")
    return Deployment(ns, provider.public_ip, cluster_ips, ports, images, creds)


def in_place(k: Kubectl, digest: str, ns: str) -> tuple[dict[str, str], dict[str, int], tuple[str, str]] | None:
    """(portal IPs, ports, broker login) when db and msg are exactly as deploy would make them
    and serving; None sends deploy down its full path (which also reports what is wrong)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        listing_f = pool.submit(unchanged.Listing.read, k)
        secret = k.run_e("get", "secret", SECRET, "-o", "json")
        listing = listing_f.result()
    if listing is None or secret.returncode != 0:
        return None
    if listing.stale(digest, list(SERVICES), dict.fromkeys(SERVICES, 1)) is not None:
        return None
    cluster_ips, ports = _addresses({name: listing.get("Service", name) or {} for name in SERVICES}, ns)
    return cluster_ips, ports, _decode_credentials(json.loads(secret.stdout))


def manifest_values(provider: ClusterProvider, namespace: str, images: Mapping[str, str],
                    app: bool = False) -> dict[str, str]:
    """The placeholders of manifests/ for this provider: db/msg always, the consumers' image
    only with `app` (an existing cluster without a pulp reference still deploys db/msg)."""
    return manifests.values_from_env(namespace=namespace, public_ip=provider.public_ip, db_image=images["db"],
                                     msg_image=images["msg"], pulp_image=images["pulp"] if app else None,
                                     pull_policy=provider.pull_policy)


def _service_addresses(k: Kubectl, ns: str) -> tuple[dict[str, str], dict[str, int]]:
    return _addresses({name: k.get_json("service", name) for name in SERVICES}, ns)


def _addresses(services: Mapping[str, dict[str, Any]], ns: str) -> tuple[dict[str, str], dict[str, int]]:
    """Portal IPs and ports of the db and msg Service objects."""
    cluster_ips: dict[str, str] = {}
    ports: dict[str, int] = {}
    for name, svc in services.items():
        cluster_ips[name] = svc["spec"].get("clusterIP", "")
        ports[name] = int(svc["spec"]["ports"][0]["port"])
        if not cluster_ips[name] or cluster_ips[name] == "None":
            raise KubegateError(f"Service {ns}/{name} got no ClusterIP; check the service CIDR")
    return cluster_ips, ports


def existing(provider: ClusterProvider, namespace: str | None = None) -> Deployment:
    """What an earlier deploy made, read back without applying anything (xdist workers
    after the first one in a run)."""
    ns = namespace or DEFAULT_NAMESPACE
    k = provider.kubectl(ns)
    cluster_ips, ports = _service_addresses(k, ns)
    return Deployment(ns, provider.public_ip, cluster_ips, ports, provider.images(), credentials(k))


def replace_stale_pods(k: Kubectl, controller: str) -> list[str]:
    """A ReplicationController does not roll its pods when its template changes: pods still
    running another image than the template's are deleted, and the controller recreates them."""
    rc = k.get_json("replicationcontroller", controller)
    want = {c["name"]: c["image"] for c in rc["spec"]["template"]["spec"]["containers"]}
    selector = ",".join(f"{key}={v}" for key, v in rc["spec"]["selector"].items())
    stale = [p["metadata"]["name"] for p in k.get_json("pods", "-l", selector)["items"]
             if any(want.get(c["name"]) not in (None, c["image"]) for c in p["spec"]["containers"])]
    if stale:
        k.run("delete", "pod", *stale, "--wait=false")
    return stale


def wait_endpoints(k: Kubectl, service: str, timeout: float = 180) -> None:
    """Ready endpoints, seen through EndpointSlices (v1 Endpoints is deprecated since 1.33)."""
    k.wait("pod", "condition=Ready", timeout=timeout, selector=f"name={service}")
    k.wait("endpointslice", "jsonpath={.endpoints[0].conditions.ready}=true", timeout=60,
           selector=f"kubernetes.io/service-name={service}")


def wait_accepting(address: str, ports: Iterable[int], what: str, timeout: float = 60) -> None:
    """Until `address` accepts TCP connections on every port. Ready pods and ready EndpointSlices
    are not yet a served Service: kube-proxy on the node holding the publicIP programs it a
    moment later and rejects until then (a CI run's first app test was refused right after the
    web pod was Ready). A bare connect and close; nothing is sent."""
    deadline = time.monotonic() + timeout
    for port in ports:
        _wait_port(address, port, what, timeout, deadline)


def _wait_port(address: str, port: int, what: str, timeout: float, deadline: float) -> None:
    last = ""

    def accepts() -> bool | None:
        nonlocal last
        try:
            with socket.create_connection((address, port), timeout=2):
                return True
        except OSError as exc:
            last = str(exc.strerror or exc)
            return None

    def describe(_: float) -> str:
        return (f"{what} Ready, but {address}:{port} still refuses after {timeout:.0f} s ({last}): kube-proxy on "
                "the node holding that address has not programmed the Service; see: kubegate doctor")

    poll(accepts, timeout=max(0.0, deadline - time.monotonic()), every=0.2, describe=describe)


def ready_endpoints(k: Kubectl, service: str) -> tuple[dict[str, str], int | None]:
    """The Service's ready endpoints from its EndpointSlices: ({address: pod name}, target port)."""
    found: dict[str, str] = {}
    port: int | None = None
    for eps in k.get_json("endpointslices", "-l", f"kubernetes.io/service-name={service}")["items"]:
        for p in eps.get("ports") or []:
            port = port or p.get("port")
        for ep in eps.get("endpoints") or []:
            if ep.get("conditions", {}).get("ready"):
                name = (ep.get("targetRef") or {}).get("name", "")
                for addr in ep.get("addresses", []):
                    found[addr] = name or addr
    return found, port


def undeploy(provider: ClusterProvider, namespace: str | None = None) -> None:
    ns = namespace or DEFAULT_NAMESPACE
    provider.kubectl().run_e("delete", "namespace", ns, "--ignore-not-found", "--wait=true", timeout=180)


def restart_counts(k: Kubectl) -> dict[str, tuple[str, int]]:
    """pod uid -> (pod name on node, container restarts) for the db and msg pods (one listing:
    it is read before and after every connectivity suite)."""
    counts: dict[str, tuple[str, int]] = {}
    for pod in k.get_json("pods", "-l", f"name in ({','.join(SERVICES)})")["items"]:
        restarts = sum(int(c.get("restartCount", 0)) for c in pod.get("status", {}).get("containerStatuses") or [])
        where = f"{pod['metadata']['name']} on {pod['spec'].get('nodeName', '?')}"
        counts[pod["metadata"]["uid"]] = (where, restarts)
    return counts


def restarts_since(before: dict[str, tuple[str, int]], after: dict[str, tuple[str, int]]) -> list[str]:
    """Pods that restarted a container between two readings. A pod that is new since (a
    disruptive suite replaced it) counts from zero; a pod that is gone is no restart."""
    found = []
    for uid, (where, count) in sorted(after.items()):
        was = before.get(uid, (where, 0))[1]
        if count > was:
            found.append(f"{where}: {count - was} restart(s)")
    return found
