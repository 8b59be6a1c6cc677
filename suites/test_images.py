"""The services run the images the gate was asked to judge, from where it was told.

A verdict about `msg` means little if the pods ran some other build: an image left on a
node by an earlier run, or a public default instead of the reference the user pushed.
With --image-registry, the runtime must have resolved each image from that registry (its
repo digest names the registry), which is what proves the pull path a user's nodes take.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubegate.providers.base import ClusterProvider
from kubegate.rig.build.images import qualified
from kubegate.services.deploy import Deployment

pytestmark = [pytest.mark.nightly, pytest.mark.smoke]


def _statuses(cluster: ClusterProvider, namespace: str, name: str) -> list[dict[str, Any]]:
    pods = cluster.kubectl(namespace).get_json("pods", "-l", f"name={name}")["items"]
    running = [p for p in pods if p.get("status", {}).get("phase") == "Running"]
    assert running, f"no running {name} pod in {namespace} ({len(pods)} pods)"
    return [cs for p in running for cs in p["status"].get("containerStatuses") or [] if cs["name"] == name]


@pytest.mark.parametrize("name", ["db", "msg"])
def test_service_pods_run_the_configured_image(cluster: ClusterProvider, services: Deployment, name: str) -> None:
    want = services.images[name]
    for cs in _statuses(cluster, services.namespace, name):
        assert qualified(cs["image"]) == qualified(want), (
            f"{name} runs {cs['image']}, the gate was configured with {want}")
        assert cs.get("imageID"), f"{name}: the runtime reports no image id for {cs['image']}"
        host = cluster.image_registry_host
        if host:
            repo = qualified(want).rsplit(":", 1)[0]
            assert cs["imageID"].startswith(f"{repo}@sha256:"), (
                f"{name}: image id {cs['imageID']} is not a digest from {host} ({repo}): the node used an "
                f"image it already had instead of pulling from the registry")
