"""kubectl's contract, per in-skew kubectl: structured data on stdout, people's text on stderr.

The seed pipes `kubectl get -o json` into a parser and relies on nothing else reaching
stdout; everything the harness does with kubectl leans on the same split. So every output
format, every error path (missing object, unknown flag or type, dead server), warnings and
--help are pinned here: the exit code, what is on stdout (parsed completely) and what is on
stderr, with the human text compared to golden files. Each test runs once per kubectl
binary on this machine within the server's ±1 minor skew (ids `kubectl-1.33`), because a
harness that only works with one client version is testing the client, not the cluster.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubegate.kube import templates
from kubegate.kube.contract import NAMES_JSONPATH, ContractNs, outside_skew
from kubegate.kube.golden import GoldenFiles, normalise
from kubegate.kube.kubectl import Kubectl, KubectlResult
from kubegate.kube.skew import KubectlBinary, parse_server_version
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.rig import versions
from kubegate.rig.spec import ClusterSpec

#: kube-apiserver's own text (pkg/api/service/warnings.go, 1.36+)
EXTERNAL_IPS_WARNING = "spec.externalIPs is deprecated and may no longer be implemented in some clusters"

pytest_plugins = ["kubegate.fixtures.proxy", "kubegate.fixtures.contract"]
pytestmark = [pytest.mark.cli, pytest.mark.usefixtures("kubectl_versions_fact", "kubectl_tally")]

SPEC = ClusterSpec()
DATA = Path(__file__).resolve().parent / "data"
UNREACHABLE_BOUND_S = 10.0
SEED_POD_PLACEHOLDERS = {"DB_IMAGE": "the db image", "PULL_POLICY": "the provider's image pull policy"}
KINDS = {"nodes": "node", "services": "service", "pods": "pod", "replicationcontrollers": "replicationcontroller"}
KIND_NAMES = {"nodes": "Node", "services": "Service", "pods": "Pod", "replicationcontrollers": "ReplicationController"}


def _ok(res: KubectlResult) -> str:
    """Exit 0 and a silent stderr: the contract for every successful structured read."""
    assert res.returncode == 0, f"`{res.command}` exited {res.returncode}: {res.stderr}"
    assert res.stderr == "", f"`{res.command}` wrote to stderr on success: {res.stderr!r}"
    return res.stdout


def _failed(res: KubectlResult) -> str:
    """Non-zero exit and nothing on stdout: a pipe into a parser must see no data at all."""
    assert res.returncode != 0, f"`{res.command}` should fail, exited 0 with stdout {res.stdout!r}"
    assert res.stdout == "", f"`{res.command}` failed but wrote to stdout: {res.stdout!r}"
    return res.stderr


def _expected_names(kind: str, kubectl_best: Kubectl, ns: ContractNs) -> set[str]:
    """From the raw API (not the printer under test) for nodes; from what we created otherwise."""
    if kind == "nodes":
        raw = json.loads(kubectl_best.run("get", "--raw", "/api/v1/nodes").stdout)
        return {n["metadata"]["name"] for n in raw["items"]}
    if kind == "pods":
        return {"kg-pod", ns.rc_pod}
    return {"services": {"kg-svc"}, "replicationcontrollers": {"kg-rc"}}[kind]


FORMAT_CASES = [
    pytest.param(kind, fmt, id=f"{kind}-{fmt}",
                 marks=[pytest.mark.smoke] if (kind, fmt) == ("services", "json") else [])
    for kind in KINDS for fmt in ("json", "yaml", "jsonpath", "name")
]


@pytest.mark.parametrize(("kind", "fmt"), FORMAT_CASES)
def test_get_output_formats_put_only_data_on_stdout(kc: Kubectl, kubectl_best: Kubectl, contract_ns: ContractNs,
                                                   kind: str, fmt: str) -> None:
    expected = _expected_names(kind, kubectl_best, contract_ns)
    out = _ok(kc.run_e("get", kind, "-o", NAMES_JSONPATH if fmt == "jsonpath" else fmt))
    if fmt in ("json", "yaml"):
        doc = json.loads(out) if fmt == "json" else yaml.safe_load(out)
        assert doc["kind"] == "List" and doc["apiVersion"] == "v1", f"not a v1 List: {str(doc)[:200]}"
        assert {i["kind"] for i in doc["items"]} == {KIND_NAMES[kind]}
        names = {i["metadata"]["name"] for i in doc["items"]}
    elif fmt == "jsonpath":
        lines = out.splitlines()
        assert all(re.fullmatch(r"[a-z0-9][a-z0-9.-]*", ln) for ln in lines), f"not one name per line: {out!r}"
        names = set(lines)
    else:
        lines = out.splitlines()
        bad = [ln for ln in lines if not re.fullmatch(rf"{KINDS[kind]}/[a-z0-9][a-z0-9.-]*", ln)]
        assert not bad, f"`-o name` lines not `{KINDS[kind]}/NAME`: {bad}"
        names = {ln.split("/", 1)[1] for ln in lines}
    assert names == expected, f"`get {kind} -o {fmt}` listed {sorted(names)}, expected {sorted(expected)}"


def test_get_single_object_is_the_object_not_a_list(kc: Kubectl) -> None:
    doc = json.loads(_ok(kc.run_e("get", "services", "kg-svc", "-o", "json")))
    assert (doc["kind"], doc["metadata"]["name"]) == ("Service", "kg-svc")


@pytest.mark.parametrize("kind", list(KINDS))
def test_get_table_matches_golden(kc: Kubectl, contract_ns: ContractNs, golden: GoldenFiles, settings: Settings,
                                  kind: str) -> None:
    literals = contract_ns.literals()  # first: it waits for the pods, whose state the table shows
    out = _ok(kc.run_e("get", kind))
    if kind == "nodes" and settings.cluster != "vagrant":
        # The golden file is the local cluster's three minions; any other cluster's table is
        # what kubectl's printer must make of its Node objects, read from the raw API.
        expected = normalise(_nodes_table(json.loads(kc.run("get", "--raw", "/api/v1/nodes").stdout)["items"]))
        assert normalise(out) == expected, f"`kubectl get nodes`:\n{out}\nexpected (from the API):\n{expected}"
        return
    if kind == "nodes":  # the version is the cluster suite's to check; the table's shape is this one's
        literals = {**literals, SPEC.kube_version: "<KUBE-VERSION>"}
    golden.check(f"get-{kind}", out, literals)


def _nodes_table(items: list[dict[str, Any]]) -> str:
    """`kubectl get nodes` as its printer renders Node objects (NAME STATUS ROLES AGE VERSION)."""
    rows = ["NAME  STATUS  ROLES  AGE  VERSION"]
    for n in sorted(items, key=lambda n: n["metadata"]["name"]):
        ready = next((c["status"] for c in n["status"].get("conditions", []) if c["type"] == "Ready"), "Unknown")
        status = {"True": "Ready", "False": "NotReady"}.get(ready, "Unknown")
        if n["spec"].get("unschedulable"):
            status += ",SchedulingDisabled"
        roles = sorted(k.split("/", 1)[1] for k in n["metadata"].get("labels", {})
                       if k.startswith("node-role.kubernetes.io/") and k.split("/", 1)[1])
        rows.append(f"{n['metadata']['name']}  {status}  {','.join(roles) or '<none>'}  1d  "
                    f"{n['status']['nodeInfo']['kubeletVersion']}")
    return "\n".join(rows) + "\n"


@pytest.mark.smoke
def test_missing_object_is_notfound_on_stderr_exit_1(kc: Kubectl, golden: GoldenFiles) -> None:
    res = kc.run_e("get", "services", "nosuch")
    err = _failed(res)
    assert res.returncode == 1
    assert 'Error from server (NotFound): services "nosuch" not found' in err
    golden.check("missing-service", err)


def test_empty_listing_says_so_on_stderr_only(kc: Kubectl, contract_ns: ContractNs, golden: GoldenFiles) -> None:
    res = kc.run_e("get", "persistentvolumeclaims")
    assert (res.returncode, res.stdout) == (0, ""), f"{res.returncode} {res.stdout!r}"
    assert res.stderr == f"No resources found in {contract_ns.name} namespace.\n"
    golden.check("empty-listing", res.stderr, contract_ns.literals())

    quiet = kc.run_e("get", "persistentvolumeclaims", "--ignore-not-found")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", ""), quiet

    doc = json.loads(_ok(kc.run_e("get", "persistentvolumeclaims", "-o", "json")))
    assert (doc["kind"], doc["items"]) == ("List", []), "an empty -o json listing is still a parseable List"


def test_unknown_flag_fails_with_nothing_on_stdout(kc: Kubectl, golden: GoldenFiles) -> None:
    err = _failed(kc.run_e("get", "services", "--no-such-flag"))
    golden.check("unknown-flag", err)


def test_unknown_resource_type_fails_with_nothing_on_stdout(kc: Kubectl, golden: GoldenFiles) -> None:
    err = _failed(kc.run_e("get", "nosuchkinds"))
    golden.check("unknown-resource-type", err)


def _closed_port() -> int:
    """A loopback port nothing listens on: bound by us, then released (a refusal, not a timeout)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_server_fails_fast_on_stderr(kubectl_version: KubectlBinary, tmp_path: Path,
                                                golden: GoldenFiles) -> None:
    port = _closed_port()
    # A dummy token, not the admin's credentials: nothing secret is copied to /tmp. (With no
    # credentials at all kubectl prompts "Please enter Username:" -- on stdout.)
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "dead",
           "clusters": [{"name": "dead", "cluster": {"server": f"https://127.0.0.1:{port}",
                                                     "insecure-skip-tls-verify": True}}],
           "users": [{"name": "nobody", "user": {"token": "kubegate-unreachable"}}],
           "contexts": [{"name": "dead", "context": {"cluster": "dead", "user": "nobody"}}]}
    path = tmp_path / "kubeconfig"
    path.write_text(json.dumps(cfg))
    path.chmod(0o600)
    res = Kubectl(path, binary=kubectl_version.path).run_e("get", "pods", stdin="", timeout=60)
    err = _failed(res)
    assert res.returncode == 1
    assert res.seconds < UNREACHABLE_BOUND_S, f"a refused connection took {res.seconds:.1f}s to report"
    assert "connection refused" in err or "was refused" in err, err
    last = err.strip().splitlines()[-1]
    golden.check("unreachable-server", last, {f"127.0.0.1:{port}": "127.0.0.1:<PORT>"})


@pytest.mark.parametrize("args", [("--help",), ("get", "--help"), ()], ids=["help", "get-help", "no-args"])
def test_help_goes_to_stdout_today(kc: Kubectl, args: tuple[str, ...]) -> None:
    """The seed had to `2>&1` its pager in 2014: help was on stderr. Today it is on stdout, exit 0."""
    out = _ok(kc.run_e(*args))
    if args[:1] == ("get",):
        assert "Display one or many resources." in out and "Usage:" in out, out[:300]
    else:
        assert out.startswith("kubectl controls the Kubernetes cluster manager."), out[:300]
        assert "Basic Commands" in out


def test_warnings_go_to_stderr_and_stdout_still_parses(kc: Kubectl) -> None:
    res = kc.run_e("get", "endpoints", "-o", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)  # the warning must not have leaked into the document
    assert "kg-svc" in {i["metadata"]["name"] for i in doc["items"]}
    lines = res.stderr.splitlines()
    assert lines and all(ln.startswith("Warning: ") for ln in lines), f"stderr should hold only warnings: {lines}"
    assert any("v1 Endpoints is deprecated" in ln for ln in lines), lines

    table = kc.run_e("get", "endpoints")
    assert table.returncode == 0 and table.stdout.startswith("NAME"), table
    assert "Warning" not in table.stdout and "v1 Endpoints is deprecated" in table.stderr


def test_externalips_deprecation_is_a_warning_on_stderr_only(kc: Kubectl, kubectl_best: Kubectl,
                                                            cluster: ClusterProvider) -> None:
    """The seed's publicIPs are spec.externalIPs, deprecated from 1.36 (KEP-5707): the API says so
    on every write. A release engineer must see it on stderr; a script reading stdout must not."""
    server = parse_server_version(kubectl_best.run("get", "--raw", "/version").stdout)
    doc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kg-extip"},
           "spec": {"ports": [{"port": 9, "protocol": "TCP"}], "externalIPs": [cluster.public_ip]}}
    try:
        res = kc.run_e("create", "-f", "-", stdin=json.dumps(doc))
        assert res.returncode == 0, f"`{res.command}` exited {res.returncode}: {res.stderr}"
        assert res.stdout == "service/kg-extip created\n", f"stdout must be the result only: {res.stdout!r}"
        if server >= versions.EXTERNAL_IPS_DEPRECATED:
            assert res.stderr.splitlines() == [f"Warning: {EXTERNAL_IPS_WARNING}"], \
                f"Kubernetes {server[0]}.{server[1]} should warn that externalIPs are deprecated: {res.stderr!r}"
        else:
            assert res.stderr == "", f"no warning before 1.36: {res.stderr!r}"
    finally:
        kc.run_e("delete", "service", "kg-extip", "--ignore-not-found", "--wait=false")


# --- the seed's workflow, in today's v1 -----------------------------------------------------

@pytest.fixture
def workflow_ns(run_namespace: Callable[[str], str]) -> str:
    """Per kubectl version: the workflow creates fixed names (db, pulpdb), as the seed did."""
    return run_namespace("kg-seedflow")


def _table(out: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", ln.strip()) for ln in out.strip().splitlines()]


def test_seed_workflow_end_to_end(kubectl_version: KubectlBinary, kubectl_best: Kubectl, cluster: ClusterProvider,
                                  settings: Settings, workflow_ns: str, golden: GoldenFiles, tmp_path: Path) -> None:
    why = outside_skew(kubectl_version, kubectl_best.kubeconfig, kubectl_best.context)
    if why:
        pytest.skip(why)
    k = Kubectl(kubectl_best.kubeconfig, context=kubectl_best.context, namespace=workflow_ns,
                binary=kubectl_version.path)
    image = cluster.images()["db"]
    svc_file = DATA / "db-service.json"
    pod_file = tmp_path / "db-pod.json"
    # The seed's pod lands on any node: where the image must be pulled, Never would refuse it.
    pod_file.write_text(templates.render((DATA / "db-pod.json").read_text(),
                                         {"DB_IMAGE": image, "PULL_POLICY": cluster.pull_policy},
                                         SEED_POD_PLACEHOLDERS, str(DATA / "db-pod.json")))
    lit = {workflow_ns: "<NS>", image: "<DB-IMAGE>"}
    deleted = rf'(?: from {re.escape(workflow_ns)} namespace)?'  # kubectl from 1.34 names the namespace

    # kubectl create -f (the seed: mongodb-service.json, then pods/mongodb.json)
    assert _ok(k.run_e("create", "-f", str(svc_file))) == "service/db created\n"
    assert _ok(k.run_e("create", "-f", str(pod_file))) == "pod/pulpdb created\n"

    # kubectl get services db: today's columns
    rows = _table(_ok(k.run_e("get", "services", "db")))
    assert rows[0] == ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"], rows[0]
    assert [rows[1][i] for i in (0, 1, 3, 4)] == ["db", "ClusterIP", "<none>", "27017/TCP"], rows[1]  # IP: below
    golden.check("workflow-get-services-db", _ok(k.run_e("get", "services", "db")), lit)

    # kubectl get --output=json services db: what the server filled in
    svc = json.loads(_ok(k.run_e("get", "--output=json", "services", "db")))
    cluster_ip = ipaddress.ip_address(svc["spec"]["clusterIP"])
    if settings.cluster == "vagrant":
        assert cluster_ip in ipaddress.ip_network(SPEC.service_cidr), f"{cluster_ip} outside {SPEC.service_cidr}"
    assert rows[1][2] == str(cluster_ip), "the table and the JSON disagree on the ClusterIP"
    assert svc["spec"]["ports"] == [{"port": 27017, "protocol": "TCP", "targetPort": 27017}]
    assert svc["spec"]["selector"] == {"name": "db"}
    assert "externalIPs" not in svc["spec"], "the shared pulp services own the externalIP; this copy must not"
    assert svc["metadata"]["uid"] and svc["metadata"]["namespace"] == workflow_ns

    # kubectl get pods pulpdb: Running, on a minion
    k.wait("pod/pulpdb", "condition=Ready", timeout=90)
    golden.check("workflow-get-pods-pulpdb", _ok(k.run_e("get", "pods", "pulpdb")), lit)

    # kubectl describe: human text, still stdout, still exit 0; the endpoint is the pod
    pod_ip = _ok(k.run_e("get", "pods", "pulpdb", "-o", "jsonpath={.status.podIP}"))
    described = _ok(k.run_e("describe", "services", "db"))
    assert re.search(rf"^Endpoints:\s+{re.escape(pod_ip)}:27017$", described, re.M), described
    golden.check("workflow-describe-service-db", described, lit)

    # update (the seed's `kubectl update -f`, today's `replace -f`): add a label
    doc = json.loads(svc_file.read_text())
    doc["metadata"]["labels"]["tier"] = "backend"
    updated = tmp_path / "db-service-labelled.json"
    updated.write_text(json.dumps(doc))
    assert _ok(k.run_e("replace", "-f", str(updated))) == "service/db replaced\n"
    labels = json.loads(_ok(k.run_e("get", "services", "db", "-o", "jsonpath={.metadata.labels}")))
    assert labels == {"name": "db", "tier": "backend"}
    assert _ok(k.run_e("get", "services", "db", "-o", "jsonpath={.spec.clusterIP}")) == str(cluster_ip), \
        "replace without a clusterIP must keep the allocated one"

    # kubectl delete -f: both gone, and saying so on stdout
    out = _ok(k.run_e("delete", "-f", str(updated), "-f", str(pod_file)))
    assert re.fullmatch(rf'service "db" deleted{deleted}\npod "pulpdb" deleted{deleted}\n', out), out
    err = _failed(k.run_e("get", "services", "db"))
    assert 'services "db" not found' in err
