"""MongoDB (`db`) through the portal IP from every node and through the publicIP from the host.

The seed's check was `echo "show dbs" | mongo <minion IP>` from a desktop. Here it runs
literally (mongosh, the MongoDB shell of today) from the host against the publicIP, and
from a client pod on each node against the portal IP taken from the pod's own
`DB_SERVICE_HOST`, so discovery and kube-proxy's rules on every node are both exercised.

`show dbs` lists only databases that hold data (FerretDB, and mongod for anything but
admin/config/local), so each listing check first writes a marker database of its own and
then requires that very name in the listing: an empty listing, or one left by an earlier
run, can never pass.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable

import pytest
from kubegate.fixtures.clients import NodeProbe

from kubegate.kube.kubectl import Kubectl
from kubegate.locks.npm import install_mongosh
from kubegate.paths import assets
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.services.asks import Mongo, Mongosh
from kubegate.services.clients import probe_from_host, probe_in_pod
from kubegate.services.deploy import Deployment
from kubegate.services.markers import marker_name
from kubegate.services.probes.mongosh import parse_show_dbs

pytestmark = [pytest.mark.connectivity, pytest.mark.usefixtures("services_stay_up")]
def _marker(settings: Settings, where: str) -> str:
    """This run's marker database for `where` (dropped at the run's end)."""
    return marker_name(settings.run_id, where)


@pytest.mark.triage("db")
@pytest.mark.smoke
def test_show_dbs_via_portal_ip(node: str, node_probe: NodeProbe, services: Deployment, settings: Settings) -> None:
    """Each node's probe writes into the run's marker database, then lists: its own write must
    show (a node whose write failed fails before listing)."""
    database = _marker(settings, "portal")
    out = node_probe(node, "mongosh show dbs via portal IP", Mongosh.portal(write_marker=database))
    assert out.ok, out.explain()
    assert out.target == f"{services.cluster_ips['db']}:{services.ports['db']}", \
        f"the pod's DB_SERVICE_HOST/PORT led to {out.target}, not the Service's portal IP"
    assert database in out.details.get("databases", []), \
        f"`show dbs` from {node} does not list {database}, written just before: {out.details.get('stdout')!r}"


@pytest.mark.triage("db")
def test_pymongo_via_portal_ip(node: str, node_probe: NodeProbe, services: Deployment) -> None:
    out = node_probe(node, "pymongo via portal IP", Mongo.portal())
    assert out.ok, out.explain()
    assert out.target == f"{services.cluster_ips['db']}:{services.ports['db']}"


def test_document_written_through_one_node_is_read_through_another(
    services_kubectl: Kubectl, clients: dict[str, str], settings: Settings
) -> None:
    """Through different nodes' kube-proxy rules to the same backend. Two nodes are the least
    that proves it; with one schedulable node there is nothing to compare, which fails."""
    assert len(clients) >= 2, f"needs two schedulable nodes, the cluster has {sorted(clients)}"
    names = sorted(clients)
    writer, reader, lister = clients[names[0]], clients[names[1]], clients[names[-1]]
    database = _marker(settings, "across")
    wrote = probe_in_pod(services_kubectl, writer, "pymongo write via portal IP",
                         Mongo.portal(database=database))
    assert wrote.ok, wrote.explain()
    doc_id = wrote.details["inserted_id"]
    read = probe_in_pod(services_kubectl, reader, "pymongo read via portal IP",
                        Mongo.portal(database=database, read_id=doc_id))
    assert read.ok, read.explain()
    assert read.details.get("read_from") == writer, f"the document should name the pod that wrote it: {read.details}"
    listed = probe_in_pod(services_kubectl, lister, "mongosh show dbs via portal IP", Mongosh.portal())
    assert listed.ok, listed.explain()
    assert database in listed.details.get("databases", []), f"`show dbs` from {lister} lacks {database}"


@pytest.mark.triage("db")
@pytest.mark.smoke
def test_seed_show_dbs_via_public_ip_from_host(services: Deployment, settings: Settings) -> None:
    """Literally the seed's command, with mongosh in place of the 2014 `mongo` shell."""
    database = _marker(settings, "public_host")
    wrote = probe_from_host("pymongo write via public IP", Mongo(services.public_ip, database=database))
    assert wrote.ok, f"writing the marker database {database}: {wrote.explain()}"
    mongosh = install_mongosh(assets())
    env = {**os.environ, "MONGOSH_TELEMETRY_ENDPOINT": ""}
    proc = subprocess.run(f'echo "show dbs" | {mongosh} --quiet --norc {services.public_ip}', shell=True,
                          capture_output=True, text=True, timeout=60, env=env, check=False)
    assert proc.returncode == 0, f"mongosh {services.public_ip} from the host: {proc.stderr.strip()[-300:]}"
    assert database in parse_show_dbs(proc.stdout), \
        f"`show dbs` via {services.public_ip} does not list {database}, written just before: {proc.stdout!r}"


@pytest.mark.triage("db")
def test_pymongo_via_public_ip_from_host(services: Deployment) -> None:
    out = probe_from_host("pymongo via public IP", Mongo(services.public_ip))
    assert out.ok, out.explain()  # a document written through the publicIP and read back from db


def _connect_refused(host: str, port: int) -> float:
    """Seconds until a TCP connect is refused; fails on any other outcome (a time-out is no refusal)."""
    started = time.monotonic()
    try:
        with socket.create_connection((host, port), timeout=5):
            pytest.fail(f"{host}:{port} accepted a connection; expected a refusal", pytrace=False)
    except ConnectionRefusedError:
        return time.monotonic() - started
    except OSError as exc:
        pytest.fail(f"{host}:{port}: expected connection refused, got {type(exc).__name__}: {exc} "
                    f"after {time.monotonic() - started:.1f}s", pytrace=False)
    raise AssertionError("unreachable")


def test_wrong_port_is_refused_at_once_and_the_probe_says_so(services: Deployment) -> None:
    seconds = _connect_refused(services.public_ip, 27018)
    assert seconds < 1.0, f"refusal took {seconds:.2f}s"
    out = probe_from_host("pymongo wrong port (expected refusal)",
                          Mongo(services.public_ip, port=27018, timeout=1),
                          expect_ok=False)
    assert not out.ok
    assert f"{services.public_ip}:27018" in (out.error or "") and "refused" in (out.error or ""), out.error


def test_service_without_backends_refuses_from_a_pod(
    cluster: ClusterProvider, services_kubectl: Kubectl, clients: dict[str, str], run_namespace: Callable[[str], str]
) -> None:
    """kube-proxy REJECTs traffic to a Service with no endpoints: a refusal, never a time-out.

    A Service is only programmed on the node at kube-proxy's next sync: until then a SYN to
    the new ClusterIP goes unanswered and its retransmission, a second later, is refused
    (seen under `-n 4`: "refusal took 1.029s"). So the pod first waits, up to 30 s, for any
    refusal; the measured connection after it must be refused at once."""
    kn = cluster.kubectl(run_namespace("kg-nobackend"))
    kn.apply(json.dumps({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nosuch"},
                         "spec": {"selector": {"app": "nothing-here"}, "ports": [{"port": 27017}]}}))
    ip = kn.get_json("service", "nosuch")["spec"]["clusterIP"]
    pod = clients[sorted(clients)[0]]
    code = ("import socket,time,sys\n"
            "def connect(timeout):\n t=time.monotonic()\n"
            f" try:\n  socket.create_connection(({ip!r},27017),timeout=timeout);return 'accepted',0\n"
            " except ConnectionRefusedError:\n  return 'refused',round(time.monotonic()-t,3)\n"
            " except OSError as e:\n  return type(e).__name__,round(time.monotonic()-t,3)\n"
            "end=time.monotonic()+30\n"
            "while connect(2)[0]!='refused' and time.monotonic()<end: pass\n"
            "print(*connect(5))\n")
    res = services_kubectl.run("exec", pod, "--", "/opt/kubegate/venv/bin/python", "-c", code, timeout=60)
    answer = res.stdout.strip().split()
    assert answer and answer[0] == "refused", f"connect to {ip}:27017 (no endpoints) from {pod}: {res.stdout!r}"
    assert float(answer[1]) < 1.0, f"refusal took {answer[1]}s"
    out = probe_in_pod(services_kubectl, pod, "pymongo no backends (expected refusal)",
                       Mongo(ip, timeout=1), expect_ok=False)
    assert not out.ok
    assert out.details.get("failure") == "refused", \
        f"pymongo to {ip}:27017 (no endpoints): expected a refusal, got {out.explain()}"
