"""Parsing probe output from pods and the host, and the services reader/writer lock."""

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

from kubegate import mutex
from kubegate.services.clients import CLIENT_SET_LABEL, WARM_SET, _outcome, client_pod, ensure_warm_clients
from kubegate.wait import until


def test_last_json_line_is_the_result() -> None:
    out = 'noise\n{"ok": true, "latency_ms": 12.5, "details": {"count": 50}, "error": null}\n'
    o = _outcome("amqp", "pod p", out, "", 0)
    assert o.ok and o.latency_ms == 12.5 and o.details == {"count": 50}


def test_no_json_means_the_probe_did_not_run_and_says_why() -> None:
    o = _outcome("mongo", "pod p", "", 'error: unable to upgrade connection: container not found ("client")\n', 1)
    assert not o.ok
    assert o.explain() == ('mongo from pod p: probe did not run (error: unable to upgrade connection: '
                           'container not found ("client"))')


def test_client_pod_is_labelled_with_the_run_and_pinned_when_asked() -> None:
    pod = client_pod("c", "minion-2", "kubegate/client:x", "20261126-1-ab")
    assert pod["metadata"]["labels"]["kubegate.io/run-id"] == "20261126-1-ab"
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/hostname": "minion-2"}
    assert "nodeSelector" not in client_pod("c", None, "i", "r")["spec"]
    # Images already on the node (imported locally, or pulled before) are used as they are.
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert pod["spec"]["tolerations"] == [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                                           "effect": "NoSchedule"}], "a per-node client must land on a cordoned node"
    assert "tolerations" not in client_pod("c", None, "i", "r")["spec"]


def _hold(path: str, exclusive: bool, seconds: float, holding: str) -> None:
    with mutex.hold_rw(Path(path), exclusive=exclusive):
        Path(holding).touch()
        time.sleep(seconds)


def test_exclusive_waits_for_shared_holders(tmp_path: Path) -> None:
    lock = str(tmp_path / "services.lock")
    flags = [tmp_path / f"reader-{i}" for i in range(2)]
    readers = [multiprocessing.Process(target=_hold, args=(lock, False, 0.4, str(f))) for f in flags]
    for r in readers:
        r.start()
    # Both readers hold the lock before the writer asks (a loaded machine starts processes slowly).
    assert until(lambda: True if all(f.exists() for f in flags) else None, timeout=30, every=0.01)
    t = time.monotonic()
    with mutex.hold_rw(Path(lock), exclusive=True):
        waited = time.monotonic() - t
    for r in readers:
        r.join()
    assert waited > 0.2, "the exclusive lock must wait for both shared holders"


class _FakeKubectl:
    """Answers `get services,pods` from a fixed listing and records what would change."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items, self.deleted, self.applied = items, list[str](), list[dict[str, Any]]()

    def get_json(self, *args: str) -> dict[str, Any]:
        return {"items": self.items}

    def run_e(self, *args: str, **_: Any) -> None:
        self.deleted += [a for a in args[2:] if not a.startswith("--")]

    def apply(self, manifest: str) -> None:
        self.applied += json.loads(manifest)["items"]


def _kept(name: str, node: str, image: str = "client:1", born: str = "2026-01-02T00:00:00Z",
          ready: bool = True) -> dict[str, Any]:
    pod = client_pod(name, node, image, None)
    pod["metadata"]["labels"][CLIENT_SET_LABEL] = WARM_SET
    pod["metadata"]["creationTimestamp"] = born
    pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return pod


def test_kept_clients_are_reused_replaced_and_completed() -> None:
    """Reused while current; replaced when on another image or older than a Service they
    discover; a node without one gets one; a pod not Ready yet is waited for."""
    services = [{"kind": "Service", "metadata": {"name": n, "creationTimestamp": "2026-01-01T00:00:00Z"}}
                for n in ("db", "msg")]
    k = _FakeKubectl([*services, _kept("a", "minion-1"), _kept("b", "minion-2", image="client:0"),
                      _kept("c", "minion-3", born="2025-12-31T00:00:00Z"), _kept("d", "minion-4", ready=False)])
    nodes = ["minion-1", "minion-2", "minion-3", "minion-4"]
    pods, pending = ensure_warm_clients(k, "client:1", nodes, ("db", "msg"))  # type: ignore[arg-type]
    assert pods["minion-1"] == "a" and pods["minion-4"] == "d"
    assert sorted(k.deleted) == ["b", "c"]
    assert sorted(p["spec"]["nodeSelector"]["kubernetes.io/hostname"] for p in k.applied) == ["minion-2", "minion-3"]
    assert all("kubegate.io/run-id" not in p["metadata"]["labels"] for p in k.applied), "kept pods outlive runs"
    assert sorted(pending) == sorted([pods["minion-2"], pods["minion-3"], "d"])
