"""kubectl is a view of the REST API: the same objects, the same errors, the same events.

The seed moved between `kubectl get --output=json` and the objects' REST paths freely.
That only holds if kubectl adds nothing and hides nothing that matters, so the shared db
and msg Services, their pods and the nodes are read both ways and compared field by field;
a missing object must be a 404 carrying a Status (the body kubectl turns into
"Error from server (NotFound)"); and a watch must report a delete and a re-create as they
happen. Reads only in the shared `pulp` namespace; the watched pod lives in this run's
namespace, because other engineers' suites use the shared pods concurrently.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from kubegate.fixtures.proxy import ApiProxy

from kubegate.kube import objects, publicip, topology
from kubegate.kube.kubectl import Kubectl
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.rig.spec import ClusterSpec
from kubegate.services import manifests
from kubegate.services.deploy import SERVICES, Deployment

pytest_plugins = ["kubegate.fixtures.proxy"]
pytestmark = [pytest.mark.cli]

WATCH_TIMEOUT_S = 30


def _kget(k: Kubectl, *args: str) -> Any:
    res = k.run("get", *args, "-o", "json")
    assert res.stderr == "", f"`{res.command}` wrote to stderr: {res.stderr!r}"
    return json.loads(res.stdout)


def _rest(proxy: ApiProxy, path: str, **params: str) -> Any:
    resp = proxy.get(path, params=params)
    assert resp.status_code == 200, f"GET {path}: {resp.status_code} {resp.text[:300]}"
    return resp.json()


def _service_view(svc: dict[str, Any]) -> dict[str, Any]:
    spec = svc["spec"]
    return {"uid": svc["metadata"]["uid"], "clusterIP": spec.get("clusterIP"), "ports": spec.get("ports"),
            "selector": spec.get("selector"), "externalIPs": spec.get("externalIPs"),
            "loadBalancer": svc.get("status", {}).get("loadBalancer")}


def _pod_view(pod: dict[str, Any]) -> dict[str, Any]:
    return {"name": pod["metadata"]["name"], "labels": pod["metadata"].get("labels"),
            "node": pod["spec"].get("nodeName"), "podIP": pod["status"].get("podIP"),
            "podIPs": pod["status"].get("podIPs")}


def _node_view(node: dict[str, Any]) -> dict[str, Any]:
    return {"name": node["metadata"]["name"], "addresses": node["status"].get("addresses"),
            "podCIDR": node["spec"].get("podCIDR")}


def _asked(services: Deployment, manifest: str) -> dict[str, Any]:
    """The object as manifests/ asks for it, rendered with this deployment's values."""
    values = manifests.values_from_env(namespace=services.namespace, public_ip=services.public_ip,
                                       db_image=services.images["db"], msg_image=services.images["msg"])
    [obj] = manifests.load_manifest(manifest, values)
    return obj


@pytest.mark.smoke
@pytest.mark.parametrize("name", SERVICES)
def test_services_are_the_same_objects_both_ways(services: Deployment, kubectl_best: Kubectl, api_proxy: ApiProxy,
                                                 name: str) -> None:
    via_kubectl = _kget(kubectl_best.with_namespace(services.namespace), "services", name)
    via_rest = _rest(api_proxy, f"/api/v1/namespaces/{services.namespace}/services/{name}")
    assert _service_view(via_kubectl) == _service_view(via_rest)
    # Both views against what was asked for, not only against each other: a read path that
    # lost or rewrote a field would otherwise agree with itself.
    asked_obj = _asked(services, f"{name}-service")
    asked, got = asked_obj["spec"], via_rest["spec"]
    assert got["selector"] == asked["selector"]
    # The publicIP: listed as the seed's externalIP, or assigned by the load balancer asked for it.
    public = got.get("externalIPs") or publicip.assigned(via_rest)
    assert public == (asked.get("externalIPs") or [asked_obj["metadata"]["annotations"][publicip.ASK_IP]]) \
        == [services.public_ip], f"publicIP ({publicip.mode()}): {public}"
    assert [{k: p[k] for k in ("name", "protocol", "port", "targetPort")} for p in got["ports"]] == asked["ports"]
    assert got["type"] == asked["type"]
    assert via_rest["metadata"]["labels"] == asked_obj["metadata"]["labels"]
    assert topology.in_cidrs(got["clusterIP"], topology.service_cidrs(kubectl_best)), got["clusterIP"]


@pytest.mark.parametrize("name", SERVICES)
def test_service_pods_are_the_same_objects_both_ways(services: Deployment, kubectl_best: Kubectl,
                                                     api_proxy: ApiProxy, name: str) -> None:
    k = kubectl_best.with_namespace(services.namespace)
    selector = f"name={name}"
    path = f"/api/v1/namespaces/{services.namespace}/pods"
    # The shared RC may replace its pod between the two reads (a disruptive suite elsewhere);
    # three consistent tries are plenty, a persistent mismatch is a real difference.
    for _ in range(3):
        by_kubectl = {p["metadata"]["uid"]: _pod_view(p) for p in _kget(k, "pods", "-l", selector)["items"]}
        by_rest = {p["metadata"]["uid"]: _pod_view(p) for p in _rest(api_proxy, path, labelSelector=selector)["items"]}
        if by_kubectl.keys() == by_rest.keys():
            break
        time.sleep(1)
    assert by_kubectl, f"no pods labelled {selector} in {services.namespace}"
    assert by_kubectl == by_rest
    template = _asked(services, f"{name}-rc")["spec"]["template"]
    nodes = {n.name: n for n in topology.schedulable_ready(_kget(kubectl_best, "nodes")["items"])}
    for view in by_rest.values():
        assert view["labels"] == template["metadata"]["labels"], f"{view['name']}: labels {view['labels']}"
        assert view["node"] in nodes, f"{view['name']} runs on {view['node']}, not a schedulable Ready node"
        cidrs = list(nodes[view["node"]].pod_cidrs)
        assert not cidrs or topology.in_cidrs(view["podIP"], cidrs), \
            f"{view['name']}'s IP {view['podIP']} lies outside {view['node']}'s pod CIDRs {cidrs}"


def test_nodes_are_the_same_objects_both_ways(kubectl_best: Kubectl, api_proxy: ApiProxy, settings: Settings) -> None:
    by_kubectl = {n["metadata"]["uid"]: _node_view(n) for n in _kget(kubectl_best, "nodes")["items"]}
    by_rest = {n["metadata"]["uid"]: _node_view(n) for n in _rest(api_proxy, "/api/v1/nodes")["items"]}
    assert by_kubectl and by_kubectl == by_rest
    for view in by_rest.values():
        assert any(a["type"] == "InternalIP" for a in view["addresses"]), view
    if settings.cluster == "vagrant":  # what the local cluster was built to be
        asked = {m.name: (m.ip, m.pod_cidr) for m in ClusterSpec().minions}
        got = {v["name"]: (next(a["address"] for a in v["addresses"] if a["type"] == "InternalIP"), v["podCIDR"])
               for v in by_rest.values()}
        assert got == asked


def test_missing_object_is_a_404_status_kubectl_quotes(services: Deployment, kubectl_best: Kubectl,
                                                       api_proxy: ApiProxy) -> None:
    resp = api_proxy.get(f"/api/v1/namespaces/{services.namespace}/services/nosuch")
    assert resp.status_code == 404
    status = resp.json()
    assert (status["kind"], status["apiVersion"], status["status"]) == ("Status", "v1", "Failure")
    assert (status["reason"], status["code"]) == ("NotFound", 404)
    assert status["details"] == {"name": "nosuch", "kind": "services"}
    res = kubectl_best.with_namespace(services.namespace).run_e("get", "services", "nosuch")
    assert res.returncode == 1 and res.stdout == ""
    assert res.stderr.strip() == f"Error from server (NotFound): {status['message']}", \
        "kubectl's error line is the Status message with its reason in front"


# --- watch ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rest_ns(kubectl_best: Kubectl, module_namespace: Callable[[str], str]) -> Kubectl:
    return kubectl_best.with_namespace(module_namespace("kg-rest"))


class Watch:
    """A streaming watch read on a thread, so the test can wait for an event with a deadline."""

    def __init__(self, proxy: ApiProxy, path: str, **params: str) -> None:
        self.events: queue.Queue[dict[str, Any] | BaseException] = queue.Queue()
        self.resp = proxy.get(path, params={"watch": "1", **params}, stream=True, timeout=(5, WATCH_TIMEOUT_S + 10))
        assert self.resp.status_code == 200, f"watch {path}: {self.resp.status_code} {self.resp.text[:300]}"
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.resp.iter_lines():
                if line:
                    self.events.put(json.loads(line))
        except (requests.RequestException, ValueError, AttributeError) as exc:  # closed under us
            self.events.put(exc)

    def until(self, kind: str, timeout: float = WATCH_TIMEOUT_S) -> tuple[dict[str, Any], list[str]]:
        """The first `kind` event, and the types of those skipped on the way (for the message)."""
        deadline = time.monotonic() + timeout
        skipped: list[str] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                ev = self.events.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(ev, BaseException):
                raise AssertionError(f"watch stream ended waiting for {kind}: {ev!r}; saw {skipped}")
            if ev.get("type") == kind:
                return ev, skipped
            skipped.append(str(ev.get("type")))
        raise AssertionError(f"no {kind} event within {timeout:.0f}s; saw {skipped}")

    def close(self) -> None:
        self.resp.close()
        self.thread.join(timeout=5)


def _watched_pod(image: str) -> str:
    # Grace period 0 (the builder's): the API server removes the pod at once, so DELETED
    # follows the delete call instead of the kubelet's shutdown.
    return json.dumps(objects.pod("kg-watched", image, ["sleep", "3600"], container="sleep",
                                  labels={"app": "kg-watched"}))


def test_watch_sees_delete_and_recreate(cluster: ClusterProvider, rest_ns: Kubectl, api_proxy: ApiProxy) -> None:
    manifest = _watched_pod(cluster.images()["client"])
    first = json.loads(rest_ns.run("create", "-f", "-", "-o", "json", stdin=manifest).stdout)
    ns = first["metadata"]["namespace"]
    watch = Watch(api_proxy, f"/api/v1/namespaces/{ns}/pods", fieldSelector="metadata.name=kg-watched",
                  resourceVersion=first["metadata"]["resourceVersion"], timeoutSeconds=str(WATCH_TIMEOUT_S))
    try:
        assert rest_ns.run("delete", "pod", "kg-watched").stderr == ""
        gone, _ = watch.until("DELETED")
        assert gone["object"]["metadata"]["uid"] == first["metadata"]["uid"]

        second = json.loads(rest_ns.run("create", "-f", "-", "-o", "json", stdin=manifest).stdout)
        back, skipped = watch.until("ADDED")
        assert back["object"]["metadata"]["uid"] == second["metadata"]["uid"] != first["metadata"]["uid"], \
            f"ADDED should carry the re-created pod (skipped {skipped})"
        assert back["object"]["metadata"]["name"] == "kg-watched"
    finally:
        watch.close()
