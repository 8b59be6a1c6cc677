"""The cluster itself: its schedulable nodes (the seed's three minions on the local cluster),
today's Kubernetes, a working pod network, and a host left as it was found.

Every later suite assumes these hold; when one fails here, the connectivity suites'
failures are symptoms, so this module names the cause first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from kubegate.kube import objects, topology
from kubegate.kube.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.providers.vagrant import VagrantProvider
from kubegate.pytest.plugin import collected_nodes
from kubegate.pytest.settings import Settings
from kubegate.report import current
from kubegate.rig.spec import ClusterSpec

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


@pytest.fixture(scope="module")
def echo(cluster: ClusterProvider, settings: Settings, pytestconfig: pytest.Config,
         module_namespace: Callable[[str], str]) -> Echo:
    """One echo pod pinned to each collected node plus a ClusterIP Service in front of them."""
    kn = cluster.kubectl(module_namespace("kg-cluster"))
    image = cluster.images()["client"]
    env = [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
    items = [objects.pod(f"echo-{n}", image, ["python3", "-c", SERVER], container="echo", node=n, env=env,
                         port=ECHO_PORT, labels={"app": "kg-echo", "kg-node": n}, run_id=settings.run_id)
             for n in collected_nodes(pytestconfig)]
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo"},
           "spec": {"selector": {"app": "kg-echo"}, "ports": [{"port": 80, "targetPort": ECHO_PORT}]}}
    kn.apply(json.dumps(objects.object_list([*items, svc])))
    kn.wait("pod", "condition=Ready", timeout=120, selector="app=kg-echo")
    pods = {p["spec"]["nodeName"]: p for p in kn.get_json("pods", "-l", "app=kg-echo")["items"]}
    pods["__service__"] = kn.get_json("service", "echo")
    return kn, pods


def _nodes(kubectl: Kubectl) -> dict[str, dict[str, Any]]:
    return {n["metadata"]["name"]: n for n in topology.read_nodes(kubectl)}


def _echo_pods(pods: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n: p for n, p in pods.items() if n != "__service__"}


@pytest.mark.smoke
def test_schedulable_nodes_are_ready_and_run_the_server_minor(kubectl: Kubectl, settings: Settings,
                                                              pytestconfig: pytest.Config) -> None:
    """Every node the per-node tests were collected for is still a schedulable Ready node, with an
    InternalIP and a kubelet of the server's minor; the local cluster must be exactly its spec."""
    server = json.loads(kubectl.run("version", "-o", "json").stdout)["serverVersion"]
    live = {n.name: n for n in topology.schedulable_ready(list(_nodes(kubectl).values()))}
    collected = collected_nodes(pytestconfig)
    assert live, "the cluster has no schedulable Ready node"
    assert set(collected) <= set(live), f"collected for {collected}, schedulable and Ready now: {sorted(live)}"
    current().add_fact("schedulable Ready nodes", f"{len(live)}: {', '.join(sorted(live))}")
    minor = f"v{server['major']}.{server['minor'].rstrip('+')}."
    for name in collected:
        node = live[name]
        assert node.internal_ip, f"{name} reports no InternalIP"
        assert node.kubelet_version.startswith(minor), f"{name} runs kubelet {node.kubelet_version}, server {minor}x"
    if settings.cluster == "vagrant":
        assert sorted(live) == [m.name for m in SPEC.minions], "the local cluster's nodes must be exactly minion-1..3"
        for m in SPEC.minions:
            assert live[m.name].internal_ip == m.ip, f"{m.name} InternalIP {live[m.name].internal_ip}, expected {m.ip}"
            assert live[m.name].kubelet_version == SPEC.kube_version


def test_server_reports_the_asked_version(kubectl: Kubectl, settings: Settings) -> None:
    """On the local rig, exactly the version asked for (--kubernetes-version, else the running
    cluster's, else the default); elsewhere a Kubernetes 1.x, its support named in the report."""
    version = json.loads(kubectl.run("version", "-o", "json").stdout)["serverVersion"]
    if settings.cluster == "vagrant":
        assert version["gitVersion"] == SPEC.kube_version, f"asked for {SPEC.kube_version}, the server runs {version}"
    assert version["major"] == "1"


@pytest.mark.needs_vagrant
def test_master_runs_control_plane_and_takes_no_workloads(cluster: ClusterProvider, kubectl: Kubectl) -> None:
    assert "master" not in _nodes(kubectl), "the master must not be a schedulable Kubernetes node"
    out = cluster.node_shell("master", "systemctl is-active etcd kube-apiserver kube-controller-manager kube-scheduler")
    assert out.split() == ["active"] * 4, out
    assert kubectl.run("get", "--raw", "/readyz").stdout.strip() == "ok"


@pytest.mark.needs_vagrant
def test_host_kernel_settings_are_untouched(cluster: ClusterProvider) -> None:
    """kubelet and systemd in the nodes must not change the host's kernel.* and vm.* settings
    (the nodes see the host's /proc/sys); compared with a snapshot from before they started."""
    assert isinstance(cluster, VagrantProvider)
    changed = cluster.machines.host_sysctls_changed()
    assert changed is not None, (f"no snapshot of the host's settings at {cluster.machines.host_sysctls_path}; it is "
                                 "taken when no node runs: `kubegate down && kubegate up`")
    assert changed == [], f"the host's kernel settings changed since the nodes started: {changed}"


def test_a_pod_runs_on_each_node_inside_its_pod_cidr(echo: Echo, kubectl: Kubectl, settings: Settings,
                                                    pytestconfig: pytest.Config) -> None:
    _, pods = echo
    nodes = {n.name: n for n in topology.schedulable_ready(list(_nodes(kubectl).values()))}
    service_cidrs = topology.service_cidrs(kubectl)
    for name in collected_nodes(pytestconfig):
        assert name in pods, f"no echo pod running on {name}"
        ip = pods[name]["status"]["podIP"]
        cidrs = list(nodes[name].pod_cidrs)
        if settings.cluster == "vagrant":
            assert cidrs == [SPEC.node(name).pod_cidr], f"{name} publishes pod CIDRs {cidrs}"
        if cidrs:
            assert topology.in_cidrs(ip, cidrs), f"pod IP {ip} on {name} outside its pod CIDRs {cidrs}"
        else:  # CNIs that ignore node podCIDRs (Calico, Cilium's cluster-pool): what still must hold
            assert ip != nodes[name].internal_ip and not topology.in_cidrs(ip, service_cidrs), \
                f"pod IP {ip} on {name} is the node's own address or lies in the service CIDR"


def _fetch(kn: Kubectl, from_pod: str, url: str) -> str:
    code = f"import urllib.request;print(urllib.request.urlopen({url!r},timeout=5).read().decode())"
    return kn.run("exec", from_pod, "--", "python3", "-c", code, timeout=30).stdout.strip()


def test_pod_to_pod_across_nodes(echo: Echo) -> None:
    kn, pods = echo
    echo_pods = _echo_pods(pods)
    names = sorted(echo_pods)
    assert len(names) >= 2, f"pod-to-pod across nodes needs two schedulable nodes, the cluster has {names}"
    for src, dst in zip(names, names[1:] + names[:1], strict=True):
        target = echo_pods[dst]
        got = _fetch(kn, echo_pods[src]["metadata"]["name"], f"http://{target['status']['podIP']}:{ECHO_PORT}/")
        assert got == target["metadata"]["name"], f"{src} -> {dst} pod IP answered {got!r}"


@pytest.mark.needs_vagrant
def test_cluster_ip_from_every_node(cluster: ClusterProvider, echo: Echo, kubectl: Kubectl) -> None:
    _, pods = echo
    cip = pods["__service__"]["spec"]["clusterIP"]
    assert topology.in_cidrs(cip, topology.service_cidrs(kubectl)), f"ClusterIP {cip} outside the service CIDR"
    expected = {p["metadata"]["name"] for p in _echo_pods(pods).values()}
    for name in sorted(_echo_pods(pods)):
        got = cluster.node_shell(name, f"curl -sS -m 5 http://{cip}/").strip()
        assert got in expected, f"ClusterIP {cip} from {name} answered {got!r}"


def test_cluster_ip_from_pods(echo: Echo) -> None:
    kn, pods = echo
    cip = pods["__service__"]["spec"]["clusterIP"]
    echo_pods = _echo_pods(pods)
    expected = {p["metadata"]["name"] for p in echo_pods.values()}
    for name, pod in sorted(echo_pods.items()):
        got = _fetch(kn, pod["metadata"]["name"], f"http://{cip}/")
        assert got in expected, f"ClusterIP {cip} from a pod on {name} answered {got!r}"
