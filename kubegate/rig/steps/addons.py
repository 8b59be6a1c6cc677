"""Cluster add-ons: CoreDNS (kube-dns) and MetalLB (LoadBalancer addresses), applied only when changed.

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
from kubegate.rig.build import gobuild
from kubegate.rig.build.images import qualified
from kubegate.rig.render import metallb
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


def render_metallb(ctx: Context) -> tuple[str, str]:
    """Upstream's native manifest of the MetalLB built (rig/render/metallb.py), stamped."""
    native = gobuild.module_dir(gobuild.METALLB_MODULE, gobuild.METALLB_VERSION) / "config" / "manifests" / \
        "metallb-native.yaml"
    docs = metallb.render(native, ctx.refs["metallb"], ctx.spec)
    digest = stamps.digest_of(docs)  # before the stamp: it must not digest itself
    stamps.stamp([d for d in docs if d["kind"] == "Deployment"], digest)
    return json.dumps(objects.object_list(docs)), digest


def _deployment(k: Kubectl, name: str, deadline: float) -> dict[str, Any] | None:
    """A Deployment of k's namespace, None if absent. On a fresh cluster this runs beside the Ready
    wait, while the API server may still be starting: retried until `deadline`."""
    last = ""

    def read() -> tuple[dict[str, Any] | None] | None:
        nonlocal last
        res = k.run_e("get", "deployment", name, "-o", "json", timeout=20)
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
        deadline = time.monotonic() + API_TIMEOUT_S
        said = []
        k = ctx.machines.kubectl("kube-system")
        manifest, digest = render_coredns(ctx)
        if _current(_deployment(k, "coredns", deadline), digest):
            said.append(f"CoreDNS unchanged ({qualified(ctx.refs['coredns'])})")
        else:
            k.apply(manifest)  # the API answered the get: a failure here is the manifest's, not worth a retry
            ctx.addons_applied = True
            said.append("CoreDNS applied")
        k = ctx.machines.kubectl(metallb.NAMESPACE)
        manifest, digest = render_metallb(ctx)
        if _current(_deployment(k, "controller", deadline), digest):
            said.append(f"MetalLB unchanged ({qualified(ctx.refs['metallb'])})")
        else:
            # Server-side: MetalLB's CRDs are larger than client-side apply's annotation may hold.
            res = k.run_e("apply", "--server-side", "--force-conflicts", "--field-manager=kubegate", "-f", "-",
                          stdin=manifest, timeout=120)
            if res.returncode != 0:
                raise KubegateError(f"applying MetalLB failed: {res.stderr.strip()[-400:]}")
            ctx.addons_applied = True
            said.append("MetalLB applied")
        return ", ".join(said)


def _current(dep: dict[str, Any] | None, digest: str) -> bool:
    return dep is not None and stamps.carries(dep, digest) and dep.get("status", {}).get("availableReplicas", 0) >= 1


class DeployAddons:
    """The add-ons available: the rollout of what ApplyAddons applied, named when it fails."""

    name = "add-ons"

    def run(self, ctx: Context) -> str:
        lb = f"MetalLB L2 pool {metallb.pool_range(ctx.spec)}"
        if not ctx.addons_applied:
            return f"CoreDNS available, kube-dns {ctx.spec.dns_ip}; {lb}"
        k = ctx.machines.kubectl("kube-system")
        wait = k.run_e("rollout", "status", "deployment/coredns", f"--timeout={ROLLOUT_TIMEOUT_S}s",
                       timeout=ROLLOUT_TIMEOUT_S + 15)
        if wait.returncode != 0:
            pods = k.run_e("get", "pods", "-l", "k8s-app=kube-dns", "-o", "wide", timeout=20).stdout.strip()
            raise KubegateError(f"CoreDNS did not become available within {ROLLOUT_TIMEOUT_S} s "
                                f"({wait.stderr.strip() or wait.stdout.strip()}); pods:\n{pods}\n"
                                f"inspect: kubectl -n kube-system logs -l k8s-app=kube-dns")
        _metallb_available(ctx.machines.kubectl(metallb.NAMESPACE), ctx)
        return f"CoreDNS applied and available, MetalLB applied, kube-dns {ctx.spec.dns_ip}; {lb}"


def _metallb_available(k: Kubectl, ctx: Context) -> None:
    """The pool needs MetalLB's CRDs established. Its rollout is not waited for here: only
    loadbalancer mode needs it, and its deploy waits for the address itself (services/loadbalancer.py),
    so a bring-up does not spend upstream's 10 s probe delay on it."""
    crds = k.run_e("wait", "--for=condition=established", "crd/ipaddresspools.metallb.io",
                   "crd/l2advertisements.metallb.io", "--timeout=60s", timeout=75)
    if crds.returncode != 0:
        raise KubegateError(f"MetalLB's CRDs were not established within 60 s: {crds.stderr.strip()[-300:]}")
    k.apply(json.dumps(objects.object_list(metallb.pool(ctx.spec))))
