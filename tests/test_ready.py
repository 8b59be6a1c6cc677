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
