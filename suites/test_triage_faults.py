"""Triage against real faults: each is injected into the local cluster, the probe a user's
test would run fails, and triage must name the fault and the node in its cause line. Every
fault is undone in a finally, and the path is proven healthy again before the test ends.

The faults are the ones seen breaking the gate without saying why: kube-proxy gone on one
minion, a stale EndpointSlice entry for msg, and a FORWARD rule dropping 27017 on the node
that hosts db.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kubegate.collect.runner import ProviderRunner
from kubegate.kube.kubectl import Kubectl
from kubegate.kube.topology import is_ready
from kubegate.providers.base import ClusterProvider
from kubegate.report import current
from kubegate.services.asks import Amqp, Mongo
from kubegate.services.clients import ProbeOutcome, probe_from_host, probe_in_pod
from kubegate.services.deploy import Deployment, ready_endpoints
from kubegate.triage import ProbePath, Triage, triage
from kubegate.wait import WaitTimeout, poll

from .test_services_amqp_clients import refused_by_protocol, run_on_host

pytestmark = [pytest.mark.disruptive, pytest.mark.needs_vagrant, pytest.mark.connectivity]
RECOVERY_S = 60


def _db_probe(k: Kubectl, pod: str, expect_ok: bool) -> ProbeOutcome:
    return probe_in_pod(k, pod, "pymongo via portal IP" + ("" if expect_ok else " (fault injected)"),
                        Mongo("$DB_SERVICE_HOST", timeout=2), expect_ok=expect_ok)


def _walk(cluster: ClusterProvider, path: ProbePath, fault: str) -> Triage:
    result = triage(ProviderRunner(cluster), path)
    current().add_fact(f"triage: {fault}", f"{result.cause()} ({result.seconds}s)")
    print(f"{fault}: cause: {result.cause()} ({result.seconds}s)\n{result.table()}")
    return result


def _recovered(what: str, check: Callable[[], bool]) -> None:
    try:
        poll(lambda: True if check() else None, timeout=RECOVERY_S, every=1,
             describe=lambda _: f"the cluster did not recover from {what} within {RECOVERY_S}s")
    except WaitTimeout as exc:
        pytest.fail(str(exc), pytrace=False)


def _live_pod(k: Kubectl, service: str) -> dict[str, Any]:
    """The service's pod that is not being deleted (the faults below act on it)."""
    return next(p for p in k.get_json("pods", "-l", f"name={service}")["items"]
                if not p["metadata"].get("deletionTimestamp"))


def _db_node(k: Kubectl) -> str:
    return str(_live_pod(k, "db")["spec"]["nodeName"])


@pytest.fixture
def away_from_db(services: Deployment, services_kubectl: Kubectl, clients: dict[str, str]) -> tuple[str, str]:
    """(node, client pod) on a node that does not host db: its traffic must cross nodes."""
    db_node = _db_node(services_kubectl)
    node = next((n for n in sorted(clients) if n != db_node), None)
    if node is None:
        pytest.fail("needs a node without the db pod", pytrace=False)
    return node, clients[node]


def test_kube_proxy_stopped_is_named(cluster: ClusterProvider, services: Deployment, services_kubectl: Kubectl,
                                     away_from_db: tuple[str, str]) -> None:
    node, pod = away_from_db
    # A stopped kube-proxy leaves its rules behind; a node whose kube-proxy never ran has none.
    cluster.node_shell(node, "sudo systemctl stop kube-proxy && sudo iptables -t nat -F KUBE-SERVICES")
    try:
        assert not _db_probe(services_kubectl, pod, expect_ok=False).ok, "db answered without kube-proxy's rules"
        result = _walk(cluster, ProbePath(services.namespace, "db", node), "kube-proxy stopped")
        assert result.cause() == f"kube-proxy inactive on {node}", result.table()
    finally:
        cluster.node_shell(node, "sudo systemctl start kube-proxy")
    _recovered("kube-proxy stopped", lambda: _db_probe(services_kubectl, pod, expect_ok=True).ok)


def test_forward_drop_is_named(cluster: ClusterProvider, services: Deployment, services_kubectl: Kubectl,
                               away_from_db: tuple[str, str]) -> None:
    node, pod = away_from_db
    db_node = _db_node(services_kubectl)
    rule = "FORWARD -p tcp --dport 27017 -j DROP"
    cluster.node_shell(db_node, f"sudo iptables -I {rule}")
    try:
        assert not _db_probe(services_kubectl, pod, expect_ok=False).ok, "db answered through a DROP rule"
        result = _walk(cluster, ProbePath(services.namespace, "db", node), "FORWARD drop")
        assert result.cause() == f"a filter rule drops tcp/27017 on {db_node}", result.table()
    finally:
        cluster.node_shell(db_node, f"sudo iptables -D {rule}")
    _recovered("the FORWARD drop", lambda: _db_probe(services_kubectl, pod, expect_ok=True).ok)


@pytest.fixture
def stale_msg_endpoint(services: Deployment, services_kubectl: Kubectl) -> Iterator[str]:
    """An EndpointSlice for msg with a ready address no pod has (not managed by the controller,
    which would otherwise correct it)."""
    address = "10.246.1.250"
    sl = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
          "metadata": {"name": "msg-stale", "labels": {"kubernetes.io/service-name": "msg",
                                                       "endpointslice.kubernetes.io/managed-by": "kubegate-faults"}},
          "addressType": "IPv4", "ports": [{"name": "msg", "port": 5672, "protocol": "TCP"}],
          "endpoints": [{"addresses": [address], "conditions": {"ready": True}}]}
    services_kubectl.apply(json.dumps(sl))
    try:
        yield address
    finally:
        services_kubectl.run_e("delete", "endpointslice", "msg-stale", "--ignore-not-found")


def test_stale_endpoint_is_named(cluster: ClusterProvider, services: Deployment, services_kubectl: Kubectl,
                                 clients: dict[str, str], stale_msg_endpoint: str) -> None:
    node = sorted(clients)[0]
    endpoints, port = ready_endpoints(services_kubectl, "msg")
    assert stale_msg_endpoint in endpoints
    user, password = services.credentials
    out = probe_in_pod(services_kubectl, clients[node], "amqp every endpoint (fault injected)",
                       Amqp("$MSG_SERVICE_HOST", count=5, credentials_stdin=True, timeout=3, every_endpoint=endpoints,
                            endpoint_port=port), stdin=f"{user}\n{password}\n", expect_ok=False)
    assert not out.ok and stale_msg_endpoint in (out.error or ""), f"the probe must name the dead endpoint: {out}"
    result = _walk(cluster, ProbePath(services.namespace, "msg", node), "stale endpoint")
    assert result.cause().startswith(f"stale endpoint {stale_msg_endpoint} in EndpointSlice msg-stale"), \
        result.table()


def test_rotated_broker_password_is_named(cluster: ClusterProvider, services: Deployment,
                                          services_kubectl: Kubectl) -> None:
    """The Secret changed after the broker started: clients read the new password, the broker
    knows the old one. Only asking the broker directly tells this from a network fault."""
    old = services_kubectl.get_json("secret", "msg-credentials")["data"]["password"]
    rotated = base64.b64encode(b"rotated-by-kubegate-faults").decode()
    services_kubectl.run("patch", "secret", "msg-credentials", "-p", json.dumps({"data": {"password": rotated}}))
    try:
        result = _walk(cluster, ProbePath(services.namespace, "msg", None, services.public_ip), "rotated password")
        assert result.cause().startswith("the broker msg-") and "refuses the credentials in Secret msg-credentials" \
            in result.cause(), result.table()
    finally:
        services_kubectl.run("patch", "secret", "msg-credentials", "-p", json.dumps({"data": {"password": old}}))
    assert triage(ProviderRunner(cluster), ProbePath(services.namespace, "msg", None, services.public_ip)
                  ).first_failure is None, "the restored Secret must be accepted again"


#: data segments (PSH) to the broker's port answered with a reset: msg's kernel completes every
#: TCP handshake, then the broker "hangs up" at the client's first AMQP bytes
HANG_UP_RULE = "INPUT -p tcp --dport 5672 --tcp-flags PSH PSH -j REJECT --reject-with tcp-reset"


@contextlib.contextmanager
def msg_hangs_up(cluster: ClusterProvider, services_kubectl: Kubectl) -> Iterator[str]:
    """The reset rule inside msg's pod network namespace (entered through its sandbox's pid)."""
    pod = _live_pod(services_kubectl, "msg")
    node, netns = _netns(cluster, pod)
    cluster.node_shell(node, f"{netns} iptables -I {HANG_UP_RULE}")
    try:
        yield pod["metadata"]["name"]
    finally:
        cluster.node_shell(node, f"{netns} iptables -D {HANG_UP_RULE}")


def _refusals(services: Deployment) -> tuple[ProbeOutcome, str]:
    """kubegate's AMQP 1.0 refusal probe and kombu's 0-9-1 refusal check (as the client suites run
    them): the outcome, and what the kombu check said ('' when it counted every answer a refusal)."""
    user, password = services.credentials
    env = {**os.environ, "KUBEGATE_MSG_USERNAME": user, "KUBEGATE_MSG_PASSWORD": password}
    proton = probe_from_host("amqp refusal via public IP (broker hangs up)",
                             Amqp(services.public_ip, expect_refused=True, timeout=5), env=env, expect_ok=False)
    answers = run_on_host("kombu", [services.public_ip, str(services.ports["msg"]), "0", "--expect-refused"],
                          f"{user}\n{password}\n")["refusals"]
    try:
        refused_by_protocol(answers, "via public IP from the host")
    except AssertionError as exc:
        return proton, str(exc)
    return proton, ""


def test_broker_hanging_up_after_the_handshake_is_no_refusal(cluster: ClusterProvider, services: Deployment,
                                                            services_kubectl: Kubectl) -> None:
    """A reset is not the broker saying no: with msg resetting every connection at the client's
    first bytes, both refusal checks fail and say what happened instead; with the fault gone
    both pass again."""
    with msg_hangs_up(cluster, services_kubectl):
        proton, kombu = _refusals(services)
    current().add_fact("refusal checks, broker hanging up", f"AMQP 1.0: {proton.error}; AMQP 0-9-1: {kombu}")
    assert not proton.ok and "not a refusal" in (proton.error or ""), \
        f"the AMQP 1.0 check took a reset for a refusal: {proton}"
    assert "not a refusal" in kombu, f"the AMQP 0-9-1 check took a reset for a refusal: {kombu!r}"
    proton, kombu = _refusals(services)
    assert proton.ok, f"with the fault removed: {proton.explain()}"
    assert not kombu, f"with the fault removed: {kombu}"


@contextlib.contextmanager
def frozen(cluster: ClusterProvider, k: Kubectl, service: str) -> Iterator[tuple[str, str]]:
    """(pod, node) of `service` with its container frozen (`runc pause`: the cgroup freezer): the
    process hangs, and the kernel still completes every TCP handshake on its port, so the pod
    stays Ready (a tcpSocket readiness probe) and `backend direct` passes."""
    pod = _live_pod(k, service)
    node, name, ns = pod["spec"]["nodeName"], pod["metadata"]["name"], pod["metadata"]["namespace"]
    labels = f"--label io.kubernetes.pod.name={name} --label io.kubernetes.pod.namespace={ns}"
    cid = cluster.node_shell(node, f"sudo crictl ps -q {labels}").split()[0]
    runc = "sudo runc --root /run/containerd/runc/k8s.io"
    cluster.node_shell(node, f"{runc} pause {cid}")
    try:
        yield name, node
    finally:
        cluster.node_shell(node, f"{runc} resume {cid}")


@pytest.mark.parametrize(("service", "protocol"), [("db", "MongoDB"), ("msg", "AMQP")])
def test_hung_backend_is_named(service: str, protocol: str, cluster: ClusterProvider, services: Deployment,
                               services_kubectl: Kubectl, clients: dict[str, str]) -> None:
    node = sorted(clients)[0]
    user, password = services.credentials
    probe = {"db": lambda ok: _db_probe(services_kubectl, clients[node], ok),
             "msg": lambda ok: probe_in_pod(services_kubectl, clients[node], "amqp via portal IP"
                                            + ("" if ok else " (fault injected)"),
                                            Amqp("$MSG_SERVICE_HOST", count=1, credentials_stdin=True, timeout=3),
                                            stdin=f"{user}\n{password}\n", expect_ok=ok)}[service]
    with frozen(cluster, services_kubectl, service) as (pod, pod_node):
        out = probe(False)
        assert not out.ok, f"the probe passed with {pod} frozen: {out}"
        result = _walk(cluster, ProbePath(services.namespace, service, node), f"hung {service}")
    _recovered(f"the hung {service}", lambda: probe(True).ok)
    port = services.ports[service]
    assert result.cause().startswith(f"{pod} on {pod_node} accepts TCP on ") and result.cause().endswith(
        f":{port} but does not answer {protocol} within 3 s (hung?)"), result.table()


def _netns(cluster: ClusterProvider, pod: dict[str, Any]) -> tuple[str, str]:
    """(node, `sudo nsenter ... ` prefix) entering the pod's network namespace through its sandbox."""
    node, name, ns = pod["spec"]["nodeName"], pod["metadata"]["name"], pod["metadata"]["namespace"]
    sandbox = f"$(sudo crictl pods -q --name '^{name}$' --namespace '^{ns}$' --state ready)"
    pid = cluster.node_shell(node, f"sudo crictl inspectp -o go-template --template '{{{{.info.pid}}}}' {sandbox}")
    return node, f"sudo nsenter -t {int(pid.strip())} -n"


def test_pod_with_a_broken_network_is_named(cluster: ClusterProvider, services: Deployment,
                                            services_kubectl: Kubectl, clients: dict[str, str]) -> None:
    """msg's own network namespace drops everything inbound: the kubelet's probes time out, the
    pod leaves the endpoints, and the cause names the pod, its node and the probe's own failure."""
    pod = _live_pod(services_kubectl, "msg")
    name = pod["metadata"]["name"]
    node, netns = _netns(cluster, pod)
    rule = "INPUT -j DROP"
    cluster.node_shell(node, f"{netns} iptables -I {rule}")
    try:
        poll(lambda: None if is_ready(services_kubectl.get_json("pod", name)) else True, timeout=30, every=1,
             describe=lambda _: f"{name} stayed Ready with its network dropping everything")
        result = _walk(cluster, ProbePath(services.namespace, "msg", sorted(clients)[0]), "broken pod network")
    finally:
        cluster.node_shell(node, f"{netns} iptables -D {rule}")
    _recovered("the broken pod network",
               lambda: any(is_ready(p) for p in services_kubectl.get_json("pods", "-l", "name=msg")["items"]))
    assert result.cause().startswith(f"no msg pod is Ready: {name} on {node} (") and \
        "Readiness probe failed" in result.cause(), result.table()
