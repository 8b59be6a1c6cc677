"""MongoDB (`db`) through the portal IP from every minion and through the publicIP from the host.

The seed's check was `echo "show dbs" | mongo <minion IP>` from a desktop. Here it runs
literally (mongosh, the MongoDB shell of today) from the host against the publicIP, and
from a client pod on each minion against the portal IP taken from the pod's own
`DB_SERVICE_HOST`, so discovery and kube-proxy's rules on every node are both exercised.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from kubegate import namespaces
from kubegate.clients import probe_from_host, probe_in_pod
from kubegate.deploy import Deployment
from kubegate.kubectl import Kubectl
from kubegate.probes.mongosh import install_mongosh
from kubegate.providers.base import ClusterProvider
from kubegate.settings import Settings
from kubegate.spec import ClusterSpec

pytestmark = [pytest.mark.connectivity]
MINIONS = [m.name for m in ClusterSpec().minions]
PORTAL = ["--host", "$DB_SERVICE_HOST", "--port", "$DB_SERVICE_PORT"]


def _node_pod(clients: dict[str, str], node: str) -> str:
    if node not in clients:
        pytest.skip(f"no Ready node {node} in this cluster")
    return clients[node]


@pytest.mark.smoke
@pytest.mark.parametrize("node", MINIONS)
def test_show_dbs_via_portal_ip(node: str, services_kubectl: Kubectl, clients: dict[str, str],
                                services: Deployment) -> None:
    out = probe_in_pod(services_kubectl, _node_pod(clients, node), "mongosh show dbs via portal IP",
                       ["mongosh", *PORTAL])
    assert out.ok, out.explain()
    assert out.details.get("target", services.cluster_ips["db"]) != ""


@pytest.mark.parametrize("node", MINIONS)
def test_pymongo_via_portal_ip(node: str, services_kubectl: Kubectl, clients: dict[str, str]) -> None:
    out = probe_in_pod(services_kubectl, _node_pod(clients, node), "pymongo via portal IP", ["mongo", *PORTAL])
    assert out.ok, out.explain()


def test_document_written_through_one_minion_is_read_through_another(
    services_kubectl: Kubectl, clients: dict[str, str], settings: Settings
) -> None:
    if len(clients) < 3:
        pytest.skip("needs three nodes")
    writer, reader, lister = (clients[n] for n in sorted(clients)[:3])
    database = "kg_" + re.sub(r"[^a-z0-9]", "_", settings.run_id.lower())
    wrote = probe_in_pod(services_kubectl, writer, "pymongo write via portal IP",
                         ["mongo", *PORTAL, "--database", database])
    assert wrote.ok, wrote.explain()
    doc_id = wrote.details["inserted_id"]
    read = probe_in_pod(services_kubectl, reader, "pymongo read via portal IP",
                        ["mongo", *PORTAL, "--database", database, "--read-id", doc_id])
    assert read.ok, read.explain()
    assert read.details.get("read_from"), "the document should name the pod that wrote it"
    listed = probe_in_pod(services_kubectl, lister, "mongosh show dbs via portal IP", ["mongosh", *PORTAL])
    assert listed.ok, listed.explain()
    assert database in listed.details.get("databases", []), f"`show dbs` from {lister} lacks {database}"


@pytest.mark.smoke
def test_seed_show_dbs_via_public_ip_from_host(services: Deployment) -> None:
    """Literally the seed's command, with mongosh in place of the 2014 `mongo` shell."""
    mongosh = install_mongosh()
    env = {**os.environ, "MONGOSH_TELEMETRY_ENDPOINT": ""}
    proc = subprocess.run(f'echo "show dbs" | {mongosh} --quiet --norc {services.public_ip}', shell=True,
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert proc.returncode == 0, f"mongosh {services.public_ip} from the host: {proc.stderr.strip()[-300:]}"
    # mongosh may echo its prompt ("test> ") before the listing: match "NAME  SIZE UNIT" anywhere.
    assert re.search(r"\S+\s+[\d.]+\s*[KMGT]?i?B\b", proc.stdout), f"no database listed by show dbs: {proc.stdout!r}"


def test_pymongo_via_public_ip_from_host(services: Deployment) -> None:
    out = probe_from_host("pymongo via public IP", ["mongo", "--host", services.public_ip])
    assert out.ok, out.explain()


def test_wrong_port_fails_fast_and_says_what_was_tried(services: Deployment) -> None:
    out = probe_from_host("pymongo wrong port (expected refusal)",
                          ["mongo", "--host", services.public_ip, "--port", "27018", "--timeout", "3"],
                          expect_ok=False)
    assert not out.ok
    assert out.latency_ms < 5000, f"a refused port should fail fast, took {out.latency_ms} ms"
    assert f"{services.public_ip}:27018" in (out.error or "") and "refused" in (out.error or ""), out.error


def test_service_without_backends_fails_fast_from_a_pod(
    cluster: ClusterProvider, services_kubectl: Kubectl, clients: dict[str, str], settings: Settings
) -> None:
    """kube-proxy rejects traffic to a Service with no endpoints; the probe must say so quickly."""
    k = cluster.kubectl()
    ns = namespaces.create(k, namespaces.unique_name("kg-nobackend"), settings.run_id)
    try:
        kn = k.with_namespace(ns)
        kn.apply(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nosuch"},
                             "spec": {"selector": {"app": "nothing-here"}, "ports": [{"port": 27017}]}}))
        ip = kn.get_json("service", "nosuch")["spec"]["clusterIP"]
        pod = next(iter(clients.values()))
        out = probe_in_pod(services_kubectl, pod, "pymongo no backends (expected refusal)",
                           ["mongo", "--host", ip, "--timeout", "3"], expect_ok=False)
        assert not out.ok
        assert out.latency_ms < 5000, f"took {out.latency_ms} ms"
        assert f"{ip}:27017" in (out.error or "") and "from" in (out.error or ""), out.error
        assert "refused" in (out.error or "") or "timeout" in (out.error or ""), out.error
    finally:
        namespaces.delete(k, ns)
