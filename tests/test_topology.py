"""What "every node" means on any cluster: the workers the API lists (pure logic over Node shapes)."""

from __future__ import annotations

from kubegate.kube.topology import worker_scope


def _node(name: str, ready: bool = True, unschedulable: bool = False, taints: list[dict[str, str]] | None = None
          ) -> dict[str, object]:
    return {"metadata": {"name": name}, "spec": {"unschedulable": unschedulable, "taints": taints or []},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_every_node_means_the_workers_and_names_those_left_out() -> None:
    scope = worker_scope([
        _node("cp", taints=[{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        _node("w3", taints=[{"key": "gpu", "effect": "NoExecute"}]),
        _node("w1"), _node("w2", unschedulable=True), _node("w4", ready=False),
        _node("w5", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]),
    ])
    assert scope.nodes == ("w1", "w5")
    assert scope.left_out == (("w2", "cordoned"), ("w3", "tainted gpu:NoExecute"), ("w4", "NotReady"))
    assert scope.out_of_scope == (("cp", "control plane"),)
