"""kubegate.collect without a cluster: redaction and the bundle's layout, with a fake runner
that answers kubectl and node-shell commands from canned output."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from kubegate.collect import Redactor, Result, Watch, Watches, collect
from kubegate.collect.events import format_events

PASSWORD = "Zq8-sEcReT_pw_123"


def _b64(v: str) -> str:
    return base64.b64encode(v.encode()).decode()


class FakeRunner:
    def __init__(self, *, node_shell: bool = True, slow: float = 0.0) -> None:
        self.has_node_shell = node_shell
        self.slow = slow
        self.calls: list[tuple[str, ...]] = []

    def kubectl(self, args: Sequence[str], timeout: float) -> Result:
        self.calls.append(("kubectl", *args))
        a = list(args)
        if a[:2] == ["get", "secret"] and a[2] == "msg-credentials":
            return Result(0, json.dumps({"data": {"username": _b64("pulp"), "password": _b64(PASSWORD)}}))
        if a[:2] == ["get", "secrets"]:
            return Result(0, json.dumps({"items": [{"data": {"api-key": _b64("app-api-key-0000")}}]}))
        if a[:2] == ["get", "pods"] and "json" in a:
            return Result(0, json.dumps({"items": [
                {"metadata": {"name": "web-1"}, "spec": {"nodeName": "minion-2"}},
                {"metadata": {"name": "web-2"}, "spec": {}},
            ]}))
        if a[:2] == ["get", "services"]:
            return Result(0, json.dumps({"items": [{"metadata": {"name": "web"}}]}))
        if a[:2] == ["get", "events"]:
            return Result(0, json.dumps({"items": [
                {"lastTimestamp": "2026-01-01T00:00:09Z", "type": "Warning", "reason": "BackOff",
                 "involvedObject": {"kind": "Pod", "name": "web-1"}, "message": "restarting"},
                {"eventTime": "2026-01-01T00:00:01.000000Z", "type": "Normal", "reason": "Scheduled",
                 "regarding": {"kind": "Pod", "name": "web-1"}, "message": "assigned"},
            ]}))
        if a[0] == "logs" and "--previous" in a:
            if a[1] == "web-2":
                return Result(1, "", 'previous terminated container "main" in pod "web-2" not found')
            time.sleep(self.slow)
            return Result(0, f"[pod/web-1/main] amqp://pulp:{PASSWORD}@msg:5672 token=abc123def\n")
        if a[0] == "logs":
            return Result(0, f"[pod/{a[1]}/main] connected with password {PASSWORD}\n")
        if a[0] == "describe":
            return Result(0, "Environment:\n  MSG_PASSWORD:  <set to the key 'password' in secret 'msg-credentials'>\n"
                             f"  API_KEY: {'app-api-key-0000'}\n")
        if a[0] == "get":
            return Result(0, "kind: List\nitems: []\n")
        return Result(1, "", f"unexpected {a}")

    def node(self, node: str, command: str, timeout: float) -> Result:
        self.calls.append(("node", node, command))
        if "journalctl" in command:
            return Result(0, f"{node} kubelet[1]: Authorization: Bearer abcdefghijklmnop\n")
        return Result(0, f'-A KUBE-SERVICES -m comment --comment "ns1/web cluster IP" -j KUBE-SVC-X ({node})\n')


def _all_text(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_bundle_layout_and_scope(tmp_path: Path) -> None:
    runner = FakeRunner()
    bundle = collect(runner, [Watch("ns1", "app=web")], tmp_path / "b", services_namespace="pulp", title="t::x")
    files = _all_text(bundle.root)
    assert set(files) == {
        "index.txt", "ns1/pods.txt", "ns1/services.describe.txt", "ns1/endpoints.yaml", "ns1/endpointslices.yaml",
        "ns1/events.txt", "ns1/pod-web-1.describe.txt", "ns1/pod-web-1.log", "ns1/pod-web-1.previous.log",
        "ns1/pod-web-2.describe.txt", "ns1/pod-web-2.log",
        "nodes/minion-2/journal.txt", "nodes/minion-2/iptables-nat.txt",
    }
    # the watch's selector scopes the listing; node state only from the node a pod runs on
    assert ("kubectl", "get", "pods", "-n", "ns1", "-l", "app=web", "-o", "wide") in runner.calls
    assert {c[1] for c in runner.calls if c[0] == "node"} == {"minion-2"}
    grep = next(c[2] for c in runner.calls if c[0] == "node" and "iptables-save" in c[2])
    assert "'\"ns1/web:'" in grep and "head -n" in grep
    journal = next(c[2] for c in runner.calls if c[0] == "node" and "journalctl" in c[2])
    assert "-u kubelet -u kube-proxy --since -10min" in journal and "tail -n" in journal
    assert "absent" in files["index.txt"] and "pod-web-2.previous.log" in files["index.txt"]
    # the index is listed first, and only files that exist are offered for attaching
    listed = bundle.files()
    assert listed[0][0].name == "index.txt" and all(p.is_file() for p, _ in listed)
    assert len(listed) == len(files)
    # never a Secret object in the bundle: secrets are read only to learn what to scrub
    assert not any(c[0] == "kubectl" and c[1] in ("describe", "get") and c[2].startswith("secret") and
                   "-o" not in c for c in runner.calls)


def test_every_file_is_redacted(tmp_path: Path) -> None:
    bundle = collect(FakeRunner(), [Watch("ns1")], tmp_path / "b", services_namespace="pulp")
    files = _all_text(bundle.root)
    for name, text in files.items():
        assert PASSWORD not in text, name
        assert _b64(PASSWORD) not in text, name
        assert "app-api-key-0000" not in text, name
        assert "abcdefghijklmnop" not in text, name
    assert "amqp://pulp:***@msg" in files["ns1/pod-web-1.previous.log"]
    assert "token=***" in files["ns1/pod-web-1.previous.log"]
    assert "<set to the key 'password' in secret 'msg-credentials'>" in files["ns1/pod-web-1.describe.txt"]
    assert "ns1" in files["index.txt"]  # names survive: the 4-letter user "pulp" is not masked
    assert "pulp" in files["ns1/pod-web-1.previous.log"]


@pytest.mark.parametrize(("text", "expected"), [
    ("password: hunter2", "password: ***"),
    ('{"password": "hunter2"}', '{"password": "***"}'),
    ("DB_PASSWORD=abc", "DB_PASSWORD=***"),
    ("--token deadbeef --v=2", "--token *** --v=2"),
    ("Authorization: Bearer abcdefghijk", "Authorization: Bearer ***"),
    ("mongodb://admin:s3cr3t@db:27017", "mongodb://admin:***@db:27017"),
    ("jwt eyJhbGciOiJSUzI1.eyJzdWIiOiJzeXN0ZW0.c2lnbmF0dXJlX2hlcmU", "jwt ***"),
    ('{"name": "MSG_PASSWORD", "value": "plain"}', '{"name": "MSG_PASSWORD", "value": "***"}'),
    ("TokenExpirationSeconds:  3607", "TokenExpirationSeconds:  3607"),
    ("SecretName:  msg-credentials", "SecretName:  msg-credentials"),
    ("kube-api-access-x: Type: Projected", "kube-api-access-x: Type: Projected"),
])
def test_patterns(text: str, expected: str) -> None:
    assert Redactor()(text) == expected


def test_known_values_short_ones_only_under_secret_keys() -> None:
    r = Redactor([("username", "pulp"), ("password", "abc1"), ("note", "long-enough-value")])
    assert r("ns pulp user pulp") == "ns pulp user pulp"
    assert r("pw abc1 and long-enough-value") == "pw *** and ***"
    assert r(_b64("long-enough-value")) == "***"


def test_budget_bounds_collection(tmp_path: Path) -> None:
    started = time.monotonic()
    bundle = collect(FakeRunner(slow=5), [Watch("ns1")], tmp_path / "b", budget_s=1)
    assert time.monotonic() - started < 3
    index = (bundle.root / "index.txt").read_text()
    assert "still running at the deadline" in index or "time budget" in index
    assert not (bundle.root / "ns1" / "pod-web-1.previous.log").exists()


def test_no_node_shell_is_noted_not_failed(tmp_path: Path) -> None:
    runner = FakeRunner(node_shell=False)
    bundle = collect(runner, [Watch("ns1")], tmp_path / "b")
    assert not any(c[0] == "node" for c in runner.calls)
    assert "no node shell" in (bundle.root / "index.txt").read_text()


def test_events_sorted_by_their_best_time() -> None:
    out = format_events(json.dumps({"items": [
        {"lastTimestamp": "2026-01-01T00:00:09Z", "reason": "BackOff", "involvedObject": {"name": "a"}},
        {"eventTime": "2026-01-01T00:00:01.000000Z", "reason": "Scheduled", "regarding": {"name": "a"}},
        {"series": {"lastObservedTime": "2026-01-01T00:00:05Z", "count": 4}, "reason": "Pulling"},
    ]})).splitlines()
    assert [next(r for r in ("Scheduled", "Pulling", "BackOff") if r in line) for line in out] == \
        ["Scheduled", "Pulling", "BackOff"]
    assert "x4" in out[1]


class _Req:
    def __init__(self, scope: str, nodeid: str = "t.py::a", fixturename: str = "echo") -> None:
        self.scope = scope
        self.node = type("N", (), {"nodeid": nodeid})()
        self.fixturename = fixturename
        self.finalizers: list[Any] = []

    def addfinalizer(self, fn: Any) -> None:
        self.finalizers.append(fn)


def test_watches_follow_test_and_fixture_scope() -> None:
    from kubegate.collect import watch
    reg = Watches()
    fn = _Req("function", "t.py::a")
    mod = _Req("module", fixturename="echo")
    watch(fn, "ns-a", registry=reg)
    watch(mod, "ns-echo", "app=echo", registry=reg)
    assert [w.namespace for w in reg.for_test("t.py::a", ["echo"])] == ["ns-a", "ns-echo"]
    assert [w.namespace for w in reg.for_test("t.py::b", ["echo"])] == ["ns-echo"]
    assert reg.for_test("t.py::c", ["other"]) == []
    for f in fn.finalizers + mod.finalizers:
        f()
    assert reg.for_test("t.py::a", ["echo"]) == []
