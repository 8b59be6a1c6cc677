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


def _running(cluster: ClusterProvider, namespace: str, name: str) -> list[dict[str, Any]]:
    pods = cluster.kubectl(namespace).get_json("pods", "-l", f"name={name}")["items"]
    running = [p for p in pods if p.get("status", {}).get("phase") == "Running"
               and not p["metadata"].get("deletionTimestamp")]
    assert running, f"no running {name} pod in {namespace} ({len(pods)} pods)"
    return running


@pytest.mark.parametrize("name", ["db", "msg"])
def test_service_pods_run_the_configured_image(cluster: ClusterProvider, services: Deployment, name: str) -> None:
    """The pod's own spec, not the runtime's `image` field: containerd reports any one of the
    names an image id has there (an imported and a pulled copy of one build share an id)."""
    want = services.images[name]
    for pod in _running(cluster, services.namespace, name):
        spec = next(c for c in pod["spec"]["containers"] if c["name"] == name)
        assert qualified(spec["image"]) == qualified(want), (
            f"{pod['metadata']['name']} runs {spec['image']}, the gate was configured with {want} "
            f"(a pod from before the image changed; kubegate deploy replaces those)")
        cs = next(c for c in pod["status"]["containerStatuses"] if c["name"] == name)
        assert cs.get("imageID"), f"{name}: the runtime reports no image id for {cs['image']}"
        host = cluster.image_registry_host
        if host:
            repo = qualified(want).rsplit(":", 1)[0]
            assert cs["imageID"].startswith(f"{repo}@sha256:"), (
                f"{name}: image id {cs['imageID']} is not a digest from {host} ({repo}): the node used an "
                f"image it already had instead of pulling from the registry")
