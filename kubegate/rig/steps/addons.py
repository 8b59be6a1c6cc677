"""Cluster add-ons: CoreDNS (kube-dns), applied only when changed.

The manifest's digest rides on the Deployment as an annotation, so a warm bring-up costs one
`kubectl get`; a fresh cluster (or a changed manifest or image) gets an apply beside the nodes'
Ready wait, then a rollout wait that names the pod's state when CoreDNS cannot become available.
"""

from __future__ import annotations

import json
import time
from typing import Any

from kubegate.errors import KubegateError
from kubegate.kube import objects, stamps, templates
from kubegate.kube.kubectl import Kubectl
from kubegate.paths import assets
from kubegate.rig.bringup import Context
from kubegate.rig.build.images import qualified
from kubegate.wait import poll

ADDON_PLACEHOLDERS = {"DNS_IP": "the kube-dns Service's address", "COREDNS_IMAGE": "the CoreDNS image built"}
ROLLOUT_TIMEOUT_S = 120
API_TIMEOUT_S = 120


def render_coredns(ctx: Context) -> tuple[str, str]:
    path = assets() / "cluster" / "addons" / "coredns.yaml"
    text = templates.render(path.read_text(), {"DNS_IP": ctx.spec.dns_ip, "COREDNS_IMAGE": ctx.refs["coredns"]},
                            ADDON_PLACEHOLDERS, str(path))
    digest = stamps.digest([text])
    docs = templates.parse_objects(text, str(path))
    deployments = [d for d in docs if d.get("kind") == "Deployment" and d["metadata"].get("name") == "coredns"]
    if len(deployments) != 1:
        raise KubegateError(f"{path}: expected one Deployment named coredns, found {len(deployments)}")
    stamps.stamp(deployments, digest)
    return json.dumps(objects.object_list(docs)), digest


def _coredns(k: Kubectl, deadline: float) -> dict[str, Any] | None:
    """The coredns Deployment, None if absent. On a fresh cluster this runs beside the Ready
    wait, while the API server may still be starting: retried until `deadline`."""
    last = ""

    def read() -> tuple[dict[str, Any] | None] | None:
        nonlocal last
        res = k.run_e("get", "deployment", "coredns", "-o", "json", timeout=20)
        if res.returncode == 0:
            return (json.loads(res.stdout),)
        if "NotFound" in res.stderr:
            return (None,)
        last = res.stderr.strip()[-300:]
        return None

    (found,) = poll(read, timeout=max(0.0, deadline - time.monotonic()), every=1, describe=lambda s: (
        f"the API server did not answer for the add-ons within {API_TIMEOUT_S} s: {last}"))
    return found


class ApplyAddons:
    """Applied as soon as the API server answers, side by side with the Ready wait: CoreDNS's
    pods are scheduled the moment a node is Ready instead of after the wait."""

    name = "add-ons apply"

    def run(self, ctx: Context) -> str:
        k = ctx.machines.kubectl("kube-system")
        manifest, digest = render_coredns(ctx)
        dep = _coredns(k, time.monotonic() + API_TIMEOUT_S)
        if dep is not None and stamps.carries(dep, digest) and dep.get("status", {}).get("availableReplicas", 0) >= 1:
            return f"CoreDNS unchanged ({qualified(ctx.refs['coredns'])})"
        k.apply(manifest)  # the API answered the get: a failure here is the manifest's, not worth a retry
        ctx.addons_applied = True
        return "CoreDNS applied"


class DeployAddons:
    """The add-ons available: the rollout of what ApplyAddons applied, named when it fails."""

    name = "add-ons"

    def run(self, ctx: Context) -> str:
        if not ctx.addons_applied:
            return f"CoreDNS available, kube-dns {ctx.spec.dns_ip}"
        k = ctx.machines.kubectl("kube-system")
        wait = k.run_e("rollout", "status", "deployment/coredns", f"--timeout={ROLLOUT_TIMEOUT_S}s",
                       timeout=ROLLOUT_TIMEOUT_S + 15)
        if wait.returncode != 0:
            pods = k.run_e("get", "pods", "-l", "k8s-app=kube-dns", "-o", "wide", timeout=20).stdout.strip()
            raise KubegateError(f"CoreDNS did not become available within {ROLLOUT_TIMEOUT_S} s "
                                f"({wait.stderr.strip() or wait.stdout.strip()}); pods:\n{pods}\n"
                                f"inspect: kubectl -n kube-system logs -l k8s-app=kube-dns")
        return f"CoreDNS applied and available, kube-dns {ctx.spec.dns_ip}"
