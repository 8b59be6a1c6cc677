"""The Ready wait's reading of Node objects (pure logic over recorded shapes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kubegate.kube.kubectl import KubectlResult
from kubegate.rig.steps.ready import ready_state


def _node(name: str, ready: str = "True", taints: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": ready,
                                       "lastHeartbeatTime": "2026-11-27T02:00:00Z"}]}}


class FakeKubectl:
    kubeconfig = Path("/dev/null")

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def run_e(self, *args: str, **_: Any) -> KubectlResult:
        return KubectlResult(args, 0, json.dumps({"items": self.items}), "", 0.0)


def test_a_node_still_tainted_not_ready_is_not_ready_yet() -> None:
    items = [_node("minion-1"), _node("minion-2", taints=[{"key": "node.kubernetes.io/not-ready",
                                                           "effect": "NoSchedule"}]),
             _node("minion-3", ready="False")]
    state = ready_state(FakeKubectl(items), {"minion-1", "minion-2", "minion-3", "minion-4"})  # type: ignore[arg-type]
    assert (state.ready, state.not_ready, state.not_registered) == (["minion-1"], ["minion-2", "minion-3"],
                                                                    ["minion-4"])
    assert not state.complete
    assert "registered but not Ready: ['minion-2', 'minion-3']" in state.describe()


def test_heartbeats_before_a_restart_do_not_count() -> None:
    state = ready_state(FakeKubectl([_node("minion-1")]), {"minion-1"}, since=4102444800.0)  # type: ignore[arg-type]
    assert state.not_ready == ["minion-1"]


def test_a_stuck_node_ends_the_wait_early_naming_it(monkeypatch: Any) -> None:
    from kubegate.errors import KubegateError
    from kubegate.rig.steps import ready

    monkeypatch.setattr(ready, "STUCK_EVERY_S", 0.0)
    monkeypatch.setattr(ready.time, "sleep", lambda _: None)
    items = [_node("minion-1"), _node("minion-3", ready="Unknown")]
    try:
        ready.wait_ready(FakeKubectl(items), {"minion-1", "minion-3"}, timeout=60,  # type: ignore[arg-type]
                         stuck=lambda nodes: f"kubelet inactive on {nodes[0]}")
    except KubegateError as exc:
        assert "and will not be: kubelet inactive on minion-3" in str(exc)
    else:
        raise AssertionError("the wait should have stopped early")


def test_hopeless_pods_are_recognised() -> None:
    from kubegate.kube.kubectl import hopeless_reason

    crash = {"status": {"containerStatuses": [{"name": "msg", "state": {"waiting": {"reason": "CrashLoopBackOff",
                                                                                    "message": "back-off 10s"}}}]}}
    unschedulable = {"status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                "message": "0/3 nodes are available"}]}}
    waiting = {"waiting": {"reason": "ContainerCreating"}}
    starting = {"status": {"containerStatuses": [{"name": "db", "state": waiting}]}}
    assert hopeless_reason(crash) == "container msg CrashLoopBackOff (back-off 10s)"
    assert hopeless_reason(unschedulable) == "FailedScheduling: 0/3 nodes are available"
    assert hopeless_reason(starting) == ""
