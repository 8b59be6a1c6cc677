"""The warm-run shortcuts: digests stamped on objects, a deploy recognised as in place, marker
databases named and attributed to their run. Pure logic on hand-made listings."""

from __future__ import annotations

from typing import Any

from kubegate.kube import stamps
from kubegate.services import markers
from kubegate.services.unchanged import Listing

DIGEST = stamps.digest(["a manifest"])


def _svc(name: str, digest: str = DIGEST, created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    return {"kind": "Service", "metadata": {"name": name, "creationTimestamp": created,
                                            "annotations": {stamps.DIGEST_ANNOTATION: digest}},
            "spec": {"clusterIP": "10.247.0.5", "ports": [{"port": 27017}]}}


def _rc(name: str, image: str = "img:1", digest: str = DIGEST) -> dict[str, Any]:
    return {"kind": "ReplicationController",
            "metadata": {"name": name, "annotations": {stamps.DIGEST_ANNOTATION: digest}},
            "spec": {"replicas": 1, "selector": {"name": name},
                     "template": {"spec": {"containers": [{"name": "c", "image": image}]}}}}


def _pod(name: str, ready: bool = True, image: str = "img:1", created: str = "2026-01-02T00:00:00Z",
         deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"{name}-x", "labels": {"name": name}, "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = created
    return {"kind": "Pod", "metadata": meta, "spec": {"containers": [{"name": "c", "image": image}]},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def _slice(service: str, ready: bool = True) -> dict[str, Any]:
    return {"kind": "EndpointSlice", "metadata": {"name": f"{service}-abc",
                                                   "labels": {"kubernetes.io/service-name": service}},
            "endpoints": [{"conditions": {"ready": ready}}]}


def _healthy() -> list[dict[str, Any]]:
    return [_svc("db"), _rc("db"), _pod("db"), _slice("db")]


def test_digest_depends_on_every_text_and_its_boundaries() -> None:
    assert stamps.digest(["ab", "c"]) != stamps.digest(["a", "bc"])
    assert stamps.digest(["x"]) == stamps.digest(["x"])


def test_stamp_sets_the_annotation_that_carries_reads() -> None:
    docs = stamps.stamp([{"kind": "Service", "metadata": {"name": "db"}}, {"kind": "Pod"}], DIGEST)
    assert all(stamps.carries(d, DIGEST) for d in docs)
    assert not stamps.carries({"metadata": {}}, DIGEST)


def test_a_healthy_current_deploy_is_in_place() -> None:
    assert Listing(_healthy()).stale(DIGEST, ["db"], {"db": 1}) is None


def test_anything_off_sends_deploy_down_its_full_path() -> None:
    cases = {
        "changed manifest": [_svc("db", digest="other"), _rc("db"), _pod("db"), _slice("db")],
        "changed controller": [_svc("db"), _rc("db", digest="other"), _pod("db"), _slice("db")],
        "pod not Ready": [_svc("db"), _rc("db"), _pod("db", ready=False), _slice("db")],
        "pod on an old image": [_svc("db"), _rc("db", image="img:2"), _pod("db"), _slice("db")],
        "pod going away": [_svc("db"), _rc("db"), _pod("db", deleting=True), _slice("db")],
        "no ready endpoint": [_svc("db"), _rc("db"), _pod("db"), _slice("db", ready=False)],
        "no Service": [_rc("db"), _pod("db"), _slice("db")],
    }
    for why, items in cases.items():
        assert Listing(items).stale(DIGEST, ["db"], {"db": 1}) is not None, why


def test_consumers_older_than_the_services_they_discover_are_not_in_place() -> None:
    """A pod only has the variables of Services that existed when it started."""
    items = [_svc("web"), _svc("db", created="2026-01-03T00:00:00Z"), _rc("worker"),
             _pod("worker", created="2026-01-02T00:00:00Z"), _slice("web")]
    assert Listing(items).stale(DIGEST, ["web"], {"worker": 1}, discovered=["db"]) is not None
    items[3] = _pod("worker", created="2026-01-04T00:00:00Z")
    assert Listing(items).stale(DIGEST, ["web"], {"worker": 1}, discovered=["db"]) is None


def test_marker_names_belong_to_their_run() -> None:
    name = markers.marker_name("20261127-064309-b30d", "public_host")
    assert name == "kg_20261127_064309_b30d_public_host"
    assert markers.run_of(name) == "20261127-064309-b30d"
    assert markers.run_of("pulp") is None and markers.run_of("kg_dns") is None
    assert len(markers.marker_name("20261127-064309-b30d", "x" * 80)) <= 60
