"""Cluster add-ons after the nodes are Ready: CoreDNS (kube-dns), applied only when changed.

The manifest's digest rides on the Deployment as an annotation, so a warm bring-up costs one
`kubectl get`; a fresh cluster (or a changed manifest or image) gets an apply and a rollout
wait that names the pod's state when CoreDNS cannot become available.
"""

from __future__ import annotations

import hashlib
import json
from string import Template

import yaml

from kubegate.errors import KubegateError
from kubegate.rig.bringup import Context
from kubegate.rig.build.images import qualified

DIGEST_ANNOTATION = "kubegate.io/manifest-digest"
ROLLOUT_TIMEOUT_S = 120


def render_coredns(ctx: Context) -> tuple[str, str]:
    path = ctx.root / "cluster" / "addons" / "coredns.yaml"
    try:
        text = Template(path.read_text()).substitute(DNS_IP=ctx.spec.dns_ip, COREDNS_IMAGE=ctx.refs["coredns"])
    except (KeyError, ValueError) as exc:
        raise KubegateError(f"{path}: placeholder problem ({exc}); "
                            "only ${DNS_IP} and ${COREDNS_IMAGE} exist") from None
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    docs = [d for d in yaml.safe_load_all(text) if d]
    deployments = [d for d in docs if d.get("kind") == "Deployment" and d["metadata"].get("name") == "coredns"]
    if len(deployments) != 1:
        raise KubegateError(f"{path}: expected one Deployment named coredns, found {len(deployments)}")
    deployments[0]["metadata"].setdefault("annotations", {})[DIGEST_ANNOTATION] = digest
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}), digest


class DeployAddons:
    name = "add-ons"

    def run(self, ctx: Context) -> str:
        k = ctx.machines.kubectl("kube-system")
        manifest, digest = render_coredns(ctx)
        res = k.run_e("get", "deployment", "coredns", "-o", "json", timeout=20)
        if res.returncode == 0:
            dep = json.loads(res.stdout)
            same = dep["metadata"].get("annotations", {}).get(DIGEST_ANNOTATION) == digest
            available = dep.get("status", {}).get("availableReplicas", 0) >= 1
            if same and available:
                return f"CoreDNS unchanged ({qualified(ctx.refs['coredns'])}), kube-dns {ctx.spec.dns_ip}"
        k.apply(manifest)
        wait = k.run_e("rollout", "status", "deployment/coredns", f"--timeout={ROLLOUT_TIMEOUT_S}s",
                       timeout=ROLLOUT_TIMEOUT_S + 15)
        if wait.returncode != 0:
            pods = k.run_e("get", "pods", "-l", "k8s-app=kube-dns", "-o", "wide", timeout=20).stdout.strip()
            raise KubegateError(f"CoreDNS did not become available within {ROLLOUT_TIMEOUT_S} s "
                                f"({wait.stderr.strip() or wait.stdout.strip()}); pods:\n{pods}\n"
                                f"inspect: kubectl -n kube-system logs -l k8s-app=kube-dns")
        return f"CoreDNS applied and available, kube-dns {ctx.spec.dns_ip}"
