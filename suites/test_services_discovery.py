"""Service discovery through environment variables, and the seed's ordering caveat.

Kubernetes injects `{NAME}_SERVICE_HOST` and friends only into pods started after the
Service existed (kubelet pkg/kubelet/envvars), which is why the seed creates Services
before their pods. Both halves are checked: the variables are right, and a pod started
too early lacks them.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

import pytest

from kubegate.kube import topology
from kubegate.kube.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.rig.spec import ClusterSpec
from kubegate.services.clients import client_pod
from kubegate.services.deploy import SERVICES, Deployment

pytestmark = [pytest.mark.connectivity]


def pod_env(k: Kubectl, pod: str) -> dict[str, str]:
    out = k.run("exec", pod, "--", "env").stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def env_of(services_kubectl: Kubectl) -> Callable[[str], dict[str, str]]:
    """A pod's environment, read once per pod: it is fixed when the container starts, and the
    db and msg cases of a node read the same pod."""
    return functools.cache(lambda pod: pod_env(services_kubectl, pod))


@pytest.mark.smoke
@pytest.mark.parametrize("service", SERVICES)
def test_pod_created_after_service_carries_its_variables(
    service: str, node: str, services: Deployment, env_of: Callable[[str], dict[str, str]],
    client_on: Callable[[str], str]
) -> None:
    """On every node: the variables come from that node's kubelet."""
    env = env_of(client_on(node))
    name, ip, port = service.upper(), services.cluster_ips[service], services.ports[service]
    expected = {
        f"{name}_SERVICE_HOST": ip,
        f"{name}_SERVICE_PORT": str(port),
        f"{name}_PORT": f"tcp://{ip}:{port}",
        f"{name}_PORT_{port}_TCP": f"tcp://{ip}:{port}",
        f"{name}_PORT_{port}_TCP_PROTO": "tcp",
        f"{name}_PORT_{port}_TCP_PORT": str(port),
        f"{name}_PORT_{port}_TCP_ADDR": ip,
    }
    got = {k: env.get(k) for k in expected}
    assert got == expected, f"service variables for {service} in a pod created after it"


@pytest.mark.smoke
def test_portal_ips_lie_in_the_service_cidr(services: Deployment, kubectl: Kubectl, settings: Settings) -> None:
    """The seed's portal_net: ClusterIPs come from the cluster's service range (read from its
    ServiceCIDR objects; on the local cluster that must be the spec's 10.247.0.0/16)."""
    cidrs = topology.service_cidrs(kubectl)
    if settings.cluster == "vagrant":
        assert cidrs == [ClusterSpec().service_cidr], f"the local cluster serves ClusterIPs from {cidrs}"
    for name in SERVICES:
        ip = services.cluster_ips[name]
        assert topology.in_cidrs(ip, cidrs), f"{name}'s portal IP {ip} lies outside the service CIDR {cidrs}"


@pytest.fixture(scope="module")
def ordering(cluster: ClusterProvider, module_namespace: Callable[[str], str]) -> tuple[Kubectl, str]:
    image = cluster.images()["client"]  # no reference on an existing cluster: an error naming the variable
    return cluster.kubectl(module_namespace("kg-order")), image


def test_pod_created_before_service_lacks_its_variables(ordering: tuple[Kubectl, str], settings: Settings) -> None:
    kn, image = ordering
    kn.apply(json.dumps(client_pod("early", None, image, settings.run_id)))
    kn.wait("pod/early", "condition=Ready", timeout=120)
    kn.apply(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "late"},
                         "spec": {"selector": {"app": "late"}, "ports": [{"port": 8080}]}}))
    late_ip = kn.get_json("service", "late")["spec"]["clusterIP"]
    kn.apply(json.dumps(client_pod("after", None, image, settings.run_id)))
    kn.wait("pod/after", "condition=Ready", timeout=120)
    early, after = pod_env(kn, "early"), pod_env(kn, "after")
    assert "LATE_SERVICE_HOST" not in early, "a pod started before the Service must not get its variables"
    assert after.get("LATE_SERVICE_HOST") == late_ip
    assert after.get("LATE_PORT") == f"tcp://{late_ip}:8080"
