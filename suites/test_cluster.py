"""The cluster itself: the seed's three minions, today's Kubernetes, a working pod network.

Every later suite assumes these hold; when one fails here, the connectivity suites'
failures are symptoms, so this module names the cause first.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterator
from typing import Any

import pytest

from kubegate import namespaces
from kubegate.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.settings import Settings
from kubegate.spec import ClusterSpec

SPEC = ClusterSpec()
pytestmark = [pytest.mark.nightly]

ECHO_PORT = 8080
# A tiny HTTP server answering with the pod's name, so a reply proves which pod answered.
SERVER = ("import http.server,os\n"
          "class H(http.server.BaseHTTPRequestHandler):\n"
          "  def do_GET(s):\n"
          "    b=os.environ['POD'].encode();s.send_response(200);s.send_header('Content-Length',str(len(b)));"
          "s.end_headers();s.wfile.write(b)\n"
          "  def log_message(s,*a): pass\n"
          f"http.server.ThreadingHTTPServer(('',{ECHO_PORT}),H).serve_forever()\n")


Echo = tuple[Kubectl, dict[str, dict[str, Any]]]


def _pod(name: str, node: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "kg-echo", "kg-node": node}},
        "spec": {
            "nodeSelector": {"kubernetes.io/hostname": node},
            "terminationGracePeriodSeconds": 0,
            "containers": [{
                "name": "echo", "image": image, "imagePullPolicy": "Never",
                "command": ["python3", "-c", SERVER],
                "env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                "ports": [{"containerPort": ECHO_PORT}],
                "readinessProbe": {"tcpSocket": {"port": ECHO_PORT}, "periodSeconds": 1},
            }],
        },
    }


@pytest.fixture(scope="module")
def echo(cluster: ClusterProvider, settings: Settings) -> Iterator[Echo]:
    """One echo pod pinned to each minion plus a ClusterIP Service in front of them."""
    k = cluster.kubectl()
    ns = namespaces.create(k, namespaces.unique_name("kg-cluster"), settings.run_id)
    kn = k.with_namespace(ns)
    try:
        image = cluster.images()["client"]
        items = [_pod(f"echo-{m.name}", m.name, image) for m in SPEC.minions]
        svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"},
               "spec": {"selector": {"app": "kg-echo"}, "ports": [{"port": 80, "targetPort": ECHO_PORT}]}}
        kn.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [*items, svc]}))
        kn.wait("pod", "condition=Ready", timeout=120, selector="app=kg-echo")
        pods = {p["spec"]["nodeName"]: p for p in kn.get_json("pods", "-l", "app=kg-echo")["items"]}
        pods["__service__"] = kn.get_json("service", "echo")
        yield kn, pods
    finally:
        namespaces.delete(k, ns)


def _nodes(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    return {n["metadata"]["name"]: n for n in kubectl.get_json("nodes")["items"]}


@pytest.mark.smoke
def test_three_minions_ready_with_expected_ips_and_version(kubectl: Kubectl, settings: Settings) -> None:
    nodes = _nodes(kubectl)
    if settings.cluster != "vagrant":
        pytest.skip("node names and addresses are the local cluster's")
    assert sorted(nodes) == [m.name for m in SPEC.minions], "Kubernetes nodes must be exactly minion-1..3"
    for m in SPEC.minions:
        n = nodes[m.name]
        ready = {c["type"]: c["status"] for c in n["status"]["conditions"]}["Ready"]
        assert ready == "True", f"{m.name} not Ready: {n['status']['conditions']}"
        ips = [a["address"] for a in n["status"]["addresses"] if a["type"] == "InternalIP"]
        assert ips == [m.ip], f"{m.name} InternalIP {ips}, expected {m.ip}"
        assert n["status"]["nodeInfo"]["kubeletVersion"] == SPEC.kube_version


def test_server_reports_v1_34(kubectl: Kubectl, settings: Settings) -> None:
    version = json.loads(kubectl.run("version", "-o", "json").stdout)["serverVersion"]
    if settings.cluster == "vagrant":
        assert version["gitVersion"] == SPEC.kube_version
    assert version["major"] == "1"


@pytest.mark.needs_vagrant
def test_master_runs_control_plane_and_takes_no_workloads(cluster: ClusterProvider, kubectl: Kubectl) -> None:
    assert "master" not in _nodes(kubectl), "the master must not be a schedulable Kubernetes node"
    out = cluster.node_shell("master", "systemctl is-active etcd kube-apiserver kube-controller-manager kube-scheduler")
    assert out.split() == ["active"] * 4, out
    assert kubectl.run("get", "--raw", "/readyz").stdout.strip() == "ok"


def test_a_pod_runs_on_each_minion(echo: Echo) -> None:
    _, pods = echo
    for m in SPEC.minions:
        assert m.name in pods, f"no echo pod running on {m.name}"
        ip = pods[m.name]["status"]["podIP"]
        assert m.pod_cidr and ipaddress.ip_address(ip) in ipaddress.ip_network(m.pod_cidr), \
            f"pod IP {ip} on {m.name} outside its pod CIDR {m.pod_cidr}"


def _fetch(kn: Kubectl, from_pod: str, url: str) -> str:
    code = f"import urllib.request;print(urllib.request.urlopen({url!r},timeout=5).read().decode())"
    return kn.run("exec", from_pod, "--", "python3", "-c", code, timeout=30).stdout.strip()


def test_pod_to_pod_across_minions(echo: Echo) -> None:
    kn, pods = echo
    names = [m.name for m in SPEC.minions]
    for src, dst in zip(names, names[1:] + names[:1], strict=True):
        target = pods[dst]
        got = _fetch(kn, pods[src]["metadata"]["name"], f"http://{target['status']['podIP']}:{ECHO_PORT}/")
        assert got == target["metadata"]["name"], f"{src} -> {dst} pod IP answered {got!r}"


@pytest.mark.needs_vagrant
def test_cluster_ip_from_every_minion(cluster: ClusterProvider, echo: Echo) -> None:
    _, pods = echo
    cip = pods["__service__"]["spec"]["clusterIP"]
    assert cip.startswith("10.247."), f"ClusterIP {cip} outside the portal net {SPEC.service_cidr}"
    expected = {p["metadata"]["name"] for n, p in pods.items() if n != "__service__"}
    for m in SPEC.minions:
        got = cluster.node_shell(m.name, f"curl -sS -m 5 http://{cip}/").strip()
        assert got in expected, f"ClusterIP {cip} from {m.name} answered {got!r}"


def test_cluster_ip_from_pods(echo: Echo) -> None:
    kn, pods = echo
    cip = pods["__service__"]["spec"]["clusterIP"]
    expected = {p["metadata"]["name"] for n, p in pods.items() if n != "__service__"}
    for m in SPEC.minions:
        got = _fetch(kn, pods[m.name]["metadata"]["name"], f"http://{cip}/")
        assert got in expected, f"ClusterIP {cip} from a pod on {m.name} answered {got!r}"
