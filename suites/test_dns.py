"""Cluster DNS: the Services by name, in addition to the seed's environment variables.

Upstream's own specs (and most users' clients) reach a Service by its DNS name; the seed
predates cluster DNS and uses variables. Both must work: names resolve to the portal IPs
from a pod on every node, and the clients work through the names.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable

import pytest
from kubegate.fixtures.clients import NodeProbe

from kubegate.kube.kubectl import Kubectl
from kubegate.pytest.settings import Settings
from kubegate.report import current
from kubegate.rig.spec import ClusterSpec
from kubegate.services.asks import Amqp, Mongo, Mongosh
from kubegate.services.deploy import SERVICES, Deployment
from kubegate.services.markers import marker_name

pytestmark = [pytest.mark.connectivity, pytest.mark.usefixtures("services_stay_up")]

RESOLVE = ("import json,socket,sys\n"
           "out={}\n"
           "for n in sys.argv[1:]:\n"
           "  try: out[n]=sorted({a[4][0] for a in socket.getaddrinfo(n,None,socket.AF_INET)})\n"
           "  except socket.gaierror as e: out[n]=str(e)\n"
           "print(json.dumps(out))\n")

LATENCY = ("import json,socket,sys,time\n"
           "t=[]\n"
           "for i in range(int(sys.argv[2])):\n"
           "  s=time.perf_counter(); socket.getaddrinfo(sys.argv[1],None,socket.AF_INET)\n"
           "  t.append(time.perf_counter()-s)\n"
           "print(json.dumps(t))\n")


def fqdn(service: str, services: Deployment) -> str:
    return f"{service}.{services.namespace}.svc.cluster.local"


def resolve_in(k: Kubectl, pod: str, *names: str) -> dict[str, list[str] | str]:
    out = k.run("exec", pod, "--", "python3", "-c", RESOLVE, *names, timeout=60).stdout
    data: dict[str, list[str] | str] = json.loads(out)
    return data


@pytest.mark.smoke
def test_service_names_resolve_to_their_portal_ips(node: str, services: Deployment, services_kubectl: Kubectl,
                                                   client_on: Callable[[str], str]) -> None:
    """The full name, `name.namespace` and the bare name (the pod's search path) from each node."""
    pod = client_on(node)
    names = {s: (fqdn(s, services), f"{s}.{services.namespace}", s) for s in SERVICES}
    got = resolve_in(services_kubectl, pod, *[n for ns in names.values() for n in ns])
    for service, forms in names.items():
        for name in forms:
            assert got[name] == [services.cluster_ips[service]], (
                f"{name} from {pod} on {node} resolved to {got[name]!r}, the Service's portal IP is "
                f"{services.cluster_ips[service]} (kube-dns: kubectl -n kube-system get pods -l k8s-app=kube-dns)")


@pytest.mark.triage("db")
def test_mongosh_show_dbs_via_dns_name(node: str, node_probe: NodeProbe, services: Deployment,
                                       settings: Settings) -> None:
    name, marker = fqdn("db", services), marker_name(settings.run_id, "dns")
    out = node_probe(node, "mongosh show dbs via DNS name",
                     Mongosh(name, "$DB_SERVICE_PORT", write_marker=marker))
    assert out.ok, out.explain()
    assert marker in out.details.get("databases", []), f"`show dbs` via {name}: {out.details.get('stdout')!r}"


@pytest.mark.triage("db")
def test_pymongo_via_dns_name(node: str, node_probe: NodeProbe, services: Deployment) -> None:
    out = node_probe(node, "pymongo via DNS name",
                     Mongo(fqdn("db", services), "$DB_SERVICE_PORT"))
    assert out.ok, out.explain()
    assert out.details.get("resolved") == [services.cluster_ips["db"]], (
        f"{fqdn('db', services)} resolved to {out.details.get('resolved')} from {node}, the Service's portal IP is "
        f"{services.cluster_ips['db']}")


@pytest.mark.triage("msg")
def test_amqp_via_dns_name(node: str, node_probe: NodeProbe, services: Deployment) -> None:
    user, password = services.credentials
    out = node_probe(node, "amqp send/receive via DNS name",
                     Amqp(fqdn("msg", services), "$MSG_SERVICE_PORT", count=20, credentials_stdin=True),
                     stdin=f"{user}\n{password}\n")
    assert out.ok, out.explain()
    assert out.details.get("received") == 20, out.details


def test_dns_lookup_latency(services: Deployment, services_kubectl: Kubectl, clients: dict[str, str]) -> None:
    """100 lookups of db's full name from one pod (glibc does not cache): all answer, and fast."""
    pod = sorted(clients.values())[0]
    out = services_kubectl.run("exec", pod, "--", "python3", "-c", LATENCY, fqdn("db", services) + ".", "100",
                               timeout=120).stdout
    times = sorted(json.loads(out))
    median, p95 = statistics.median(times), times[94]
    for t in times:
        current().record_probe("DNS lookup of db's name", t, True)
    current().add_fact("DNS lookup latency (100 from one pod)",
                       f"median {median * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms")
    assert median < 0.05, f"median DNS lookup {median * 1000:.1f} ms from {pod} (p95 {p95 * 1000:.1f} ms)"


@pytest.mark.needs_vagrant
def test_names_outside_the_cluster_are_not_resolved(services_kubectl: Kubectl, clients: dict[str, str]) -> None:
    """The local cluster's DNS answers for cluster.local only: nothing is forwarded outside."""
    pod = sorted(clients.values())[0]
    got = resolve_in(services_kubectl, pod, "example.com", "kube-dns.kube-system.svc.cluster.local")
    assert got["kube-dns.kube-system.svc.cluster.local"] == [ClusterSpec().dns_ip]
    assert isinstance(got["example.com"], str) and "not known" in got["example.com"], (
        f"example.com resolved to {got['example.com']!r}: the cluster's DNS must not forward outside")
