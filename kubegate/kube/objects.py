"""Builders for the Kubernetes objects the suites create: one pod builder, used everywhere.

Each suite used to spell its pods out by hand, and they drifted (pull policies, grace
periods, labels). A pod here always has a zero grace period (suites delete what they make,
and waiting 30 s for `sleep` to die is waste) and the run's labels when a run id is given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubegate.kube.namespaces import labels as run_labels

#: Tolerating a cordon as DaemonSet pods do: a per-node pod must land on its node even while a
#: disruptive suite has it cordoned.
TOLERATE_CORDON = {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}


def pod_template(
    name: str,
    image: str,
    command: list[str] | None = None,
    *,
    container: str = "main",
    node: str | None = None,
    labels: dict[str, str] | None = None,
    run_id: str | None = None,
    env: list[dict[str, Any]] | None = None,
    port: int | None = None,
    pull: str = "IfNotPresent",
    tolerate_cordon: bool = False,
    args: list[str] | None = None,
    readiness: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """metadata + spec of a one-container pod (a ReplicationController's template as it is).

    `node` pins it (kubernetes.io/hostname); `port` exposes it with a TCP readiness check (or
    `readiness` gives the probe); `args` go to the image's entrypoint; `pull` is the image pull
    policy (IfNotPresent by default, so images already on the node, imported or pulled, are used
    as they are)."""
    c: dict[str, Any] = {"name": container, "image": image, "imagePullPolicy": pull}
    if command:
        c["command"] = command
    if args:
        c["args"] = args
    if env:
        c["env"] = env
    if port is not None:
        c["ports"] = [{"containerPort": port}]
        c["readinessProbe"] = {"tcpSocket": {"port": port}, "periodSeconds": 1}
    if readiness is not None:
        c["readinessProbe"] = readiness
    spec: dict[str, Any] = {"terminationGracePeriodSeconds": 0, "containers": [c]}
    if node:
        spec["nodeSelector"] = {"kubernetes.io/hostname": node}
    if tolerate_cordon:
        spec["tolerations"] = [TOLERATE_CORDON]
    meta_labels = {**(run_labels(run_id) if run_id else {}), **(labels or {})}
    metadata: dict[str, Any] = {"labels": meta_labels} if meta_labels else {}
    if name:
        metadata["name"] = name
    return {"metadata": metadata, "spec": spec}


def pod(name: str, image: str, command: list[str] | None = None, **options: Any) -> dict[str, Any]:
    """A v1 Pod; options as for pod_template."""
    return {"apiVersion": "v1", "kind": "Pod", **pod_template(name, image, command, **options)}


def object_list(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A v1 List: several objects in one `kubectl apply -f -`."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items)}
