"""What a failed wait on pods says: the kubelet's latest warnings in one line, and when it may
stop early (repeated probe failures with restarts). Events recorded on the local cluster
(tests/data/waits: a web pod whose readiness probe failed while the app started)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubegate.kube.kubectl import stuck_reason, warning_line

DATA = Path(__file__).parent / "data" / "waits"


def _events() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads((DATA / "events-pulp-web.json").read_text())["items"]
    return items


def _pod(restarts: int, ready: bool = False) -> dict[str, Any]:
    return {"metadata": {"name": "pulp-web-6sxd2"}, "status": {"containerStatuses": [
        {"name": "web", "ready": ready, "restartCount": restarts, "state": {"running": {}}}]}}


def test_latest_warnings_in_one_line_latest_last_with_counts() -> None:
    line = warning_line(_events())
    assert line == (
        'events: Unhealthy: Readiness probe failed: Get "http://10.246.2.8:8080/healthz": context deadline exceeded '
        '(Client.Timeout exceeded while awaiting headers) (x3) | Unhealthy: Readiness probe failed: Get '
        '"https://10.246.2.8:8443/healthz": dial tcp 10.246.2.8:8443: connect: connection refused (x3) | Unhealthy: '
        'Readiness probe failed: Get "http://10.246.2.8:8080/healthz": dial tcp 10.246.2.8:8080: connect: connection '
        'refused')  # the three latest distinct warnings, the latest last


def test_no_warnings_no_line() -> None:
    assert warning_line([]) == ""


def test_probe_failures_with_restarts_end_the_wait_early() -> None:
    assert stuck_reason(_pod(restarts=2), _events()) == (
        "container web not ready after 2 restarts and 8 failed probes")


def test_probe_failures_without_restarts_or_a_ready_pod_do_not() -> None:
    assert stuck_reason(_pod(restarts=1), _events()) == ""  # still starting, maybe
    assert stuck_reason(_pod(restarts=5, ready=True), _events()) == ""


def test_the_restarts_reason_is_in_the_state_line() -> None:
    from kubegate.kube.kubectl import describe_state
    pod = {"kind": "Pod", "metadata": {"name": "msg-x"}, "spec": {"nodeName": "minion-1"}, "status": {
        "phase": "Running", "containerStatuses": [{"name": "msg", "ready": False, "restartCount": 3,
                                                   "state": {"running": {}},
                                                   "lastState": {"terminated": {"reason": "Error", "exitCode": 143}}}]}}
    assert describe_state(pod).endswith("container msg running, not ready, 3 restarts (last ended Error, exit 143)")


def test_a_wait_on_pods_ends_early_when_a_pod_they_need_cannot_become_ready() -> None:
    """The app's workers are not Ready while msg's network drops everything: their own probes
    fail without restarts, but msg restarts with failing probes, so waiting longer only repeats it."""
    from kubegate.kube.kubectl import Kubectl, KubectlResult, WaitTimeout

    worker = {"metadata": {"name": "pulp-worker-x"}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "worker", "ready": False, "restartCount": 0, "state": {"running": {}}}]}}
    msg = {"metadata": {"name": "msg-x"}, "status": {"phase": "Running", "containerStatuses": [
        {"name": "msg", "ready": False, "restartCount": 3, "state": {"running": {}}}]}}
    unhealthy = {"reason": "Unhealthy", "count": 5, "type": "Warning",
                 "message": "Readiness probe failed: dial tcp 10.246.3.3:5672: i/o timeout"}
    asked: list[tuple[str, ...]] = []

    class Scripted(Kubectl):
        def run_e(self, *args: str, stdin: str | None = None, timeout: float = 120) -> KubectlResult:
            asked.append(args)
            if args[0] == "wait":
                return KubectlResult(args, 1, "", "error: timed out waiting for the condition on pods/x", 3.0)
            if args[:2] == ("get", "events"):
                out = {"items": [unhealthy] if "involvedObject.kind=Pod,involvedObject.name=msg-x,type=Warning"
                       in args else []}
            else:
                out = {"items": [msg] if "name in (db,msg)" in args else [worker]}
            return KubectlResult(args, 0, json.dumps(out), "", 0.1)

    k = Scripted(Path("/nonexistent"), namespace="pulp")
    try:
        k.wait("pod", "condition=Ready", timeout=180, selector="name=pulp-worker", needs="name in (db,msg)")
    except WaitTimeout as exc:
        assert "it cannot come true: it needs pod/msg-x: container msg not ready after 3 restarts and 5 failed " \
               "probes" in str(exc), exc
        assert "dial tcp 10.246.3.3:5672: i/o timeout" in str(exc)
    else:
        raise AssertionError("the wait should have ended early")
    assert sum(a[0] == "wait" for a in asked) == 1, "it ended after the first slice"
    k2 = Scripted(Path("/nonexistent"), namespace="pulp")
    msg["status"]["containerStatuses"][0]["restartCount"] = 1  # type: ignore[index]  # still starting, maybe
    asked.clear()
    try:
        k2.wait("pod", "condition=Ready", timeout=4, selector="name=pulp-worker", needs="name in (db,msg)")
    except WaitTimeout as exc:
        assert "needs" not in str(exc)
    assert sum(a[0] == "wait" for a in asked) >= 2, "a pod it needs that may still start does not end the wait"
