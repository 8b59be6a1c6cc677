"""The harness's own failure path, against the real cluster: what an engineer reads at 3 a.m.

A wait that times out must say what it waited for, on which object, and what that object
looked like; a failing test must leave a diagnostics bundle (describe, logs, events,
endpoints, node journals, NAT rules) linked from junit.xml, with the broker's credentials
scrubbed out of it. Nothing here is faked: pods really fail to start and really crash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kubegate.collect import ProviderRunner, Watch, collect
from kubegate.kube import objects
from kubegate.kube.kubectl import Kubectl, WaitTimeout
from kubegate.kube.namespaces import labels
from kubegate.providers.base import ClusterProvider
from kubegate.pytest.settings import Settings
from kubegate.services.deploy import Deployment

ROOT = Path(__file__).resolve().parent.parent
ECHO = ("import http.server\n"
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "  def do_GET(s): s.send_response(200); s.end_headers(); s.wfile.write(b'ok')\n"
        "http.server.ThreadingHTTPServer(('', 8080), H).serve_forever()\n")


def _pod(name: str, image: str, run_id: str, command: list[str] | None = None, **extra: str) -> dict[str, Any]:
    # Never pull: the missing-image case must say ErrImageNeverPull, whatever registry is near.
    return objects.pod(name, image, command, run_id=run_id, labels={"app": name, **extra}, pull="Never")


def test_wait_timeout_names_condition_object_and_last_state(
        cluster: ClusterProvider, settings: Settings, run_namespace: Callable[[str], str]) -> None:
    ns = run_namespace("kg-diag-wait")
    k = cluster.kubectl(ns)
    k.apply(json.dumps(_pod("never-ready", "kubegate.local/does-not-exist:never", settings.run_id)))
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        k.wait("pod/never-ready", "condition=Ready", timeout=120)
    msg = str(caught.value)
    # The image can never be had: the wait stops as soon as the pod says so, not at its time-out.
    assert time.monotonic() - started < 30, f"the wait should stop early, took {time.monotonic() - started:.0f}s"
    for part in ("condition=Ready", "pod/never-ready", f"namespace {ns}", "cannot come true",
                 "container main ErrImageNeverPull", "does-not-exist:never"):
        assert part in msg, f"{part!r} missing from the time-out message: {msg}"


def _crashing_echo(k: Kubectl, image: str, run_id: str, password: str) -> None:
    """`crash` exits 3 once, then idles: kubelet keeps one dead container per pod, so only a
    running second instance guarantees the first one's logs are still there for --previous."""
    code = (f"import os, sys, time\nprint('connecting to amqp://pulp:{password}@msg:5672/pulp', flush=True)\n"
            "print('db password=hunter2hunter2', flush=True)\n"
            "if not os.path.exists('/state/crashed'):\n  open('/state/crashed', 'w').close(); sys.exit(3)\n"
            "time.sleep(3600)\n")
    crash = _pod("crash", image, run_id, ["python3", "-c", code])
    crash["spec"]["volumes"] = [{"name": "state", "emptyDir": {}}]
    crash["spec"]["containers"][0]["volumeMounts"] = [{"name": "state", "mountPath": "/state"}]
    echo = _pod("echo", image, run_id, ["python3", "-c", ECHO])
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "echo", "labels": labels(run_id)},
           "spec": {"selector": {"app": "echo"}, "ports": [{"port": 80, "targetPort": 8080}]}}
    k.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": [crash, echo, svc]}))
    k.wait("pod/echo", "condition=Ready", timeout=60)
    k.wait("pod/crash", "jsonpath={.status.containerStatuses[0].restartCount}=1", timeout=90)
    k.wait("pod/crash", "condition=Ready", timeout=60)


def test_bundle_collects_describe_logs_events_endpoints_and_node_state(
        cluster: ClusterProvider, settings: Settings, services: Deployment,
        run_namespace: Callable[[str], str], tmp_path: Path) -> None:
    ns = run_namespace("kg-diag-bundle")
    password = services.credentials[1]
    _crashing_echo(cluster.kubectl(ns), cluster.images()["client"], settings.run_id, password)

    started = time.monotonic()
    bundle = collect(ProviderRunner(cluster), [Watch(ns)], tmp_path / "diagnostics", budget_s=30,
                     services_namespace=settings.namespace, title="test")
    took = time.monotonic() - started
    root = bundle.root
    index = (root / "index.txt").read_text()
    assert took < 35, f"collection took {took:.0f}s, over its 30 s budget:\n{index}"
    files = {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}
    for name in ("pods.txt", "services.describe.txt", "endpoints.yaml", "endpointslices.yaml", "events.txt",
                 "pod-echo.describe.txt", "pod-echo.log", "pod-crash.describe.txt", "pod-crash.log",
                 "pod-crash.previous.log"):
        assert f"{ns}/{name}" in files, f"{ns}/{name} not collected:\n{index}"
    assert f"{ns}/pod-echo.previous.log" not in files, "echo never restarted: no previous log expected"
    assert "absent" in index and "pod-echo.previous.log" in index, index
    assert "BackOff" in files[f"{ns}/events.txt"] or "Started" in files[f"{ns}/events.txt"]
    assert "kubernetes.io/service-name: echo" in files[f"{ns}/endpointslices.yaml"]
    assert "hunter2hunter2" not in files[f"{ns}/pod-crash.previous.log"]
    assert "password=***" in files[f"{ns}/pod-crash.previous.log"]
    assert "amqp://pulp:***@" in files[f"{ns}/pod-crash.previous.log"]
    leaked = [name for name, text in files.items() if password in text]
    assert not leaked, f"the msg password appears in {leaked}"
    if not cluster.has_node_shell:
        assert "no node shell" in index
        return
    nodes = {p.split("/")[1] for p in files if p.startswith("nodes/")}
    pods = cluster.kubectl(ns).get_json("pods")["items"]
    assert nodes == {p["spec"]["nodeName"] for p in pods}, f"node state from {nodes}, pods on other nodes"
    for node in nodes:
        assert "kubelet" in files[f"nodes/{node}/journal.txt"], files[f"nodes/{node}/journal.txt"][:300]
        rules = files[f"nodes/{node}/iptables-nat.txt"]
        assert f'"{ns}/echo' in rules and "KUBE-SVC" in rules, rules[:500]


INNER_TEST = '''
def test_fails_with_a_watch(diagnose):
    diagnose.watch("{ns}", selector="app=echo")
    assert False, "deliberate failure: the bundle is what this checks"
'''
INNER_CONFTEST = ('pytest_plugins = ["kubegate.pytest.plugin", "kubegate.pytest.report", "kubegate.fixtures.cluster", '
                  '"kubegate.fixtures.diagnose", "kubegate.fixtures.namespaces", "kubegate.pytest.diagnostics"]\n')


def test_failing_test_gets_a_bundle_linked_from_junit(
        cluster: ClusterProvider, settings: Settings, run_namespace: Callable[[str], str], tmp_path: Path) -> None:
    ns = run_namespace("kg-diag-hook")
    k = cluster.kubectl(ns)
    k.apply(json.dumps(_pod("echo", cluster.images()["client"], settings.run_id, ["python3", "-c", ECHO])))
    k.wait("pod/echo", "condition=Ready", timeout=60)
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "conftest.py").write_text(INNER_CONFTEST)
    (inner / "test_inner.py").write_text(INNER_TEST.format(ns=ns))
    opts = [f"--cluster={settings.cluster}"]
    if settings.kubeconfig:
        opts.append(f"--kubeconfig={settings.kubeconfig}")
    if settings.context:
        opts.append(f"--context={settings.context}")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEGATE_RUN", "PYTEST_XDIST"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--reports-dir", str(tmp_path / "reports"), *opts, str(inner)],
                          cwd=inner, env=env, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "deliberate failure" in proc.stdout, "the test's own failure must stay the reported one"
    run_dir = (tmp_path / "reports" / "latest").resolve()
    case = ET.parse(run_dir / "junit.xml").getroot().find(".//testcase[@name='test_fails_with_a_watch']")
    assert case is not None and case.find("failure") is not None
    linked = [p.get("value", "") for p in case.iter("property") if p.get("name") == "diagnostics"]
    assert any(v.endswith("diagnostics/index.txt") for v in linked), linked
    assert any(v.endswith(f"{ns}/pod-echo.describe.txt") for v in linked), linked
    missing = [v for v in linked if not (run_dir / v).is_file()]
    assert not missing, f"junit.xml links files that do not exist: {missing}"
    assert "pod-echo.describe.txt" in (run_dir / "report.html").read_text()
