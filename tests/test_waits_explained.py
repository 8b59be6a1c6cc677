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
