"""Parsing probe output from pods and the host, and the services reader/writer lock."""

import multiprocessing
import time
from pathlib import Path

from kubegate.runs.locks import flock
from kubegate.services.clients import _outcome, client_pod


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


def _hold(path: str, exclusive: bool, seconds: float) -> None:
    with flock(Path(path), exclusive=exclusive):
        time.sleep(seconds)


def test_exclusive_waits_for_shared_holders(tmp_path: Path) -> None:
    lock = str(tmp_path / "services.lock")
    readers = [multiprocessing.Process(target=_hold, args=(lock, False, 0.4)) for _ in range(2)]
    for r in readers:
        r.start()
    time.sleep(0.1)
    t = time.monotonic()
    with flock(Path(lock), exclusive=True):
        waited = time.monotonic() - t
    for r in readers:
        r.join()
    assert waited > 0.2, "the exclusive lock must wait for both shared holders"
