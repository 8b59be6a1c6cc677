"""Each triage check on recorded real output (tests/data/triage: the local cluster's db path
from minion-1, objects trimmed to the fields the checks read), healthy and broken."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubegate.collect.runner import Result
from kubegate.triage import ProbePath, triage

DATA = Path(__file__).parent / "data" / "triage"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


class FakeRunner:
    """kubectl gets answered from the recorded objects; node commands from recorded output."""

    has_node_shell = True

    def __init__(self) -> None:
        self.objects = {"service": _load("service-db.json"), "pods": _load("pods-db.json"),
                        "endpointslices": _load("endpointslices-db.json"), "nodes": _load("nodes.json"),
                        "events": {"items": []}}
        self.shell: dict[tuple[str, str], str] = {}
        self.kube_proxy = {"minion-1": "active", "minion-2": "active", "minion-3": "active"}
        self.commands: list[tuple[str, str]] = []

    def kubectl(self, args: Sequence[str], timeout: float, stdin: str | None = None) -> Result:
        kind = args[1]
        if kind in self.objects:
            return Result(0, json.dumps(self.objects[kind]))
        return Result(1, "", f"Error from server (NotFound): {kind}")

    def node(self, node: str, command: str, timeout: float) -> Result:
        self.commands.append((node, command))
        if command.startswith("systemctl is-active kube-proxy"):
            return Result(0, self.kube_proxy[node] + "\n")
        if "iptables-save -t nat" in command:
            return Result(0, (DATA / "minion-1.nat.txt").read_text())
        if "iptables-save -t filter" in command:
            return Result(0, self.shell.get((node, "filter"), (DATA / "minion-1.filter.txt").read_text()))
        if command == "ip route get 10.246.1.1":  # the way back to minion-1's pods, from minion-3
            return Result(0, self.shell.get((node, "route back"), (DATA / "minion-3.route-back.txt").read_text()))
        if command.startswith("ip route get"):
            return Result(0, self.shell.get((node, "route"), (DATA / "minion-1.route-db.txt").read_text()))
        if "/dev/tcp/" in command and "od -An" in command:  # the protocol hello: its reply as hex
            return Result(0, self.shell.get((node, "hello"), (DATA / "minion-1.hello-db.txt").read_text()))
        if "/dev/tcp/" in command:
            return Result(0, "open\n")
        return Result(1, "", f"unexpected command {command}")


PATH = ProbePath("pulp", "db", "minion-1")


def test_healthy_path_has_no_cause_and_says_so() -> None:
    result = triage(FakeRunner(), PATH)  # type: ignore[arg-type]
    assert result.first_failure is None, result.table()
    assert result.cause().startswith("path looks healthy")
    assert [f.hop for f in result.findings] == ["service", "backend pods", "endpoints", "origin node", "kube-proxy",
                                               "NAT rules", "route", "route back", "filter rules", "filter rules",
                                               "backend direct", "backend protocol"]


def test_inactive_kube_proxy_is_the_cause() -> None:
    runner = FakeRunner()
    runner.kube_proxy["minion-1"] = "inactive"
    assert triage(runner, PATH).cause() == "kube-proxy inactive on minion-1"  # type: ignore[arg-type]


def test_missing_nat_rule_names_the_cluster_ip() -> None:
    runner = FakeRunner()
    runner.objects["service"]["spec"]["clusterIP"] = "10.247.9.9"
    assert triage(runner, PATH).cause() == "no kube-proxy NAT rule for ClusterIP 10.247.9.9:27017 on minion-1"  # type: ignore[arg-type]


def test_route_through_the_default_gateway_is_the_cause() -> None:
    runner = FakeRunner()
    runner.shell[("minion-1", "route")] = "10.246.3.2 via 172.17.0.1 dev eth0 src 172.17.0.3 uid 1000\n    cache\n"
    assert triage(runner, PATH).cause() == \
        "minion-1 routes 10.246.3.2 (db-2p6x6 on minion-3) not via minion-3 (10.245.1.5)"  # type: ignore[arg-type]


def test_forward_drop_on_the_backend_node_is_the_cause() -> None:
    runner = FakeRunner()
    filt = (DATA / "minion-1.filter.txt").read_text().replace(
        ":FORWARD ACCEPT [0:0]\n", ":FORWARD ACCEPT [0:0]\n-A FORWARD -p tcp -m tcp --dport 27017 -j DROP\n")
    assert "--dport 27017 -j DROP" in filt
    runner.shell[("minion-3", "filter")] = filt
    result = triage(runner, PATH)  # type: ignore[arg-type]
    assert result.cause() == "a filter rule drops tcp/27017 on minion-3"
    assert "-A FORWARD -p tcp -m tcp --dport 27017 -j DROP" in (result.first_failure.evidence if result.first_failure
                                                                 else "")


def test_stale_endpoint_is_flagged_before_any_node_check() -> None:
    runner = FakeRunner()
    stale = copy.deepcopy(runner.objects["endpointslices"]["items"][0])
    stale["metadata"]["name"] = "db-stale"
    stale["endpoints"] = [{"addresses": ["10.246.1.250"], "conditions": {"ready": True}}]
    runner.objects["endpointslices"]["items"].append(stale)
    result = triage(runner, PATH)  # type: ignore[arg-type]
    assert result.cause().startswith("stale endpoint 10.246.1.250 in EndpointSlice db-stale")


def test_crash_looping_backend_is_the_cause() -> None:
    runner = FakeRunner()
    pod = runner.objects["pods"]["items"][0]
    pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                                                  "message": "back-off 40s restarting"}}
    assert triage(runner, PATH).cause() == \
        "db-2p6x6 on minion-3: container db CrashLoopBackOff (back-off 40s restarting)"  # type: ignore[arg-type]


def test_without_node_shells_the_shell_hops_are_not_checked() -> None:
    runner = FakeRunner()
    runner.has_node_shell = False
    result = triage(runner, PATH)  # type: ignore[arg-type]
    assert runner.commands == []
    unchecked = [f.hop for f in result.findings if f.ok is None]
    # the protocol hop goes through port-forward instead, which needs the provider's kubectl
    assert unchecked == ["kube-proxy", "NAT rules", "route", "route back", "filter rules", "backend direct",
                         "backend protocol"]
    assert "7 hops not checked" in result.cause()


def _pod_name() -> str:
    return str(_load("pods-db.json")["items"][0]["metadata"]["name"])


def test_recorded_data_is_what_the_expectations_name() -> None:
    assert _pod_name() == "db-2p6x6"
    assert any(line.startswith(":FORWARD ACCEPT") for line in (DATA / "minion-1.filter.txt").read_text().splitlines())


def test_a_refused_login_names_the_rotated_secret(monkeypatch: Any) -> None:
    """The credentials hop on a refusal (the port-forward and AMQP exchange stubbed: the
    suites/test_triage_faults.py test does them for real)."""
    from contextlib import contextmanager

    from kubegate.services.probes.result import AUTH_FAILURE, ProbeResult
    from kubegate.triage import broker_checks
    from kubegate.triage.facts import Endpoint, Facts

    @contextmanager
    def forward(*_: Any, **__: Any) -> Any:
        yield 40000

    def refused(*_: Any, **__: Any) -> ProbeResult:
        return ProbeResult("amqp", "127.0.0.1:40000", False, 3.0, details={"failure": AUTH_FAILURE},
                           error="amqp: tried connect at 127.0.0.1:40000: auth failure (amqp:unauthorized-access)")

    class Secrets(FakeRunner):
        provider = type("P", (), {"kubectl": lambda self, ns=None: None})()

        def kubectl(self, args: Sequence[str], timeout: float, stdin: str | None = None) -> Result:
            return Result(0, json.dumps({"data": {"username": "cHVscA==", "password": "b2xk"}}))

    monkeypatch.setattr(broker_checks, "port_forward", forward)
    monkeypatch.setattr(broker_checks, "probe_amqp", refused)
    facts = Facts(ProbePath("pulp", "msg", None, "10.245.1.3"), _load("service-db.json"), [], [], {})
    endpoint = Endpoint("10.246.1.2", True, "msg-x", "minion-1", "s")
    found = broker_checks.broker_accepts_secret(Secrets(), facts, endpoint)
    assert (found.ok, found.summary) == (False, "the broker msg-x refuses the credentials in Secret msg-credentials "
                                                "(rotated since the broker started?)")


def test_backend_that_accepts_but_does_not_speak_mongodb_is_the_cause() -> None:
    """A hung db (SIGSTOP): the kernel still completes the handshake, so `backend direct` passes;
    the MongoDB ping gets nothing back within the deadline (the node's `od` prints nothing)."""
    runner = FakeRunner()
    runner.shell[("minion-3", "hello")] = ""
    result = triage(runner, PATH)  # type: ignore[arg-type]
    assert result.cause() == (f"{_pod_name()} on minion-3 accepts TCP on 10.246.3.2:27017 but does not answer MongoDB "
                              "within 3 s (hung?)"), result.table()
    assert result.first_failure is not None and result.first_failure.node == "minion-3"


def test_backend_answering_another_protocol_is_named() -> None:
    runner = FakeRunner()
    runner.shell[("minion-3", "hello")] = " 48 54 54 50 2f 31 2e 30 20 34 30 30\n"  # "HTTP/1.0 400"
    assert "answers on 10.246.3.2:27017, but not in MongoDB" in triage(runner, PATH).cause()  # type: ignore[arg-type]


def _restarted(finished: str, restarts: int = 3) -> FakeRunner:
    runner = FakeRunner()
    cs = runner.objects["pods"]["items"][0]["status"]["containerStatuses"][0]
    cs["restartCount"] = restarts
    cs["lastState"] = {"terminated": {"reason": "Error", "exitCode": 137, "finishedAt": finished,
                                      "startedAt": "2026-11-27T02:30:00Z"}}
    return runner


def test_old_restarts_are_history_not_the_cause() -> None:
    """Three restarts during an earlier, since removed fault: a later failure must not be pinned on them."""
    from kubegate.triage import api_checks
    from kubegate.triage.facts import gather
    facts = gather(_restarted("2026-11-27T02:38:20Z"), PATH)  # type: ignore[arg-type]
    now = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC).timestamp()  # 22 minutes later
    found = api_checks.backends_healthy(facts, now=now)
    assert found.ok is True, found
    assert found.evidence == f"history, not a cause: {_pod_name()}: 3 restarts, the last 22 min ago (Error, exit 137)"


def test_a_restart_within_the_window_is_the_cause_and_says_when() -> None:
    from kubegate.triage import api_checks
    from kubegate.triage.facts import gather
    facts = gather(_restarted("2026-11-27T02:59:48Z"), PATH)  # type: ignore[arg-type]
    now = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.UTC).timestamp()
    found = api_checks.backends_healthy(facts, now=now)
    assert found.ok is False and found.summary == (
        f"{_pod_name()} on minion-3 restarted at 02:59:48Z (Error, exit 137; 3 restarts in all)"), found


def test_a_restart_is_explained_by_the_kubelets_warnings_recorded_with_msgs_network_broken() -> None:
    """Recorded on the local cluster (1.36): msg's network namespace dropping everything inbound,
    the kubelet's liveness probe timed out and restarted it. The line holds no counts and no
    'N s ago', so every failure it explains groups under it."""
    from kubegate.triage import api_checks
    from kubegate.triage.facts import Facts
    pods = _load("pods-msg-netns.json")["items"]
    facts = Facts(ProbePath("pulp", "msg", "minion-2"), None, pods, [], {}, [],
                  _load("events-msg-netns.json")["items"])
    now = dt.datetime(2026, 12, 3, 19, 47, 30, tzinfo=dt.UTC).timestamp()
    found = api_checks.backends_healthy(facts, now=now)
    assert found.summary == (
        "msg-t98w6 on minion-1 restarted at 19:46:59Z (Error, exit 143; 1 restarts in all) after: Unhealthy: "
        "Liveness probe failed: dial tcp 10.246.1.17:5672: i/o timeout | Unhealthy: Readiness probe failed: dial "
        "tcp 10.246.1.17:5672: i/o timeout"), found


def test_a_pod_that_is_not_ready_is_named_with_its_node_and_the_probes_own_failure() -> None:
    """The same recording, as triage saw msg while its network still dropped everything: not Ready
    (the one field changed from the recording), no restart yet within the walk's window."""
    from kubegate.triage import api_checks
    from kubegate.triage.facts import Facts
    pods = _load("pods-msg-netns.json")["items"]
    for c in pods[0]["status"]["conditions"]:
        if c["type"] == "Ready":
            c["status"] = "False"
    events = [e for e in _load("events-msg-netns.json")["items"] if "Readiness" in e["message"]]
    facts = Facts(ProbePath("pulp", "msg", "minion-2"), None, pods, [], {}, [], events)
    found = api_checks.backends_healthy(facts, now=dt.datetime(2026, 12, 3, 20, 0, tzinfo=dt.UTC).timestamp())
    assert found.summary == ("no msg pod is Ready: msg-t98w6 on minion-1 (Unhealthy: Readiness probe failed: dial tcp "
                             "10.246.1.17:5672: i/o timeout)"), found
