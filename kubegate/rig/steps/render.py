"""Certificates, every node's files, the admin kubeconfig and the settings the Vagrantfile reads,
all rendered on the host; each node's digest says whether it must be provisioned again."""

from __future__ import annotations

import hashlib
import json

from kubegate.paths import dist_dir
from kubegate.rig.bringup import Context
from kubegate.rig.pki import ensure_pki
from kubegate.rig.render.cluster import render_all, write_node
from kubegate.rig.render.kubeconfig import render_kubeconfig, write_kubeconfig


class Render:
    name = "render"

    def run(self, ctx: Context) -> str:
        spec, state = ctx.spec, ctx.state
        state.mkdir(parents=True, exist_ok=True)
        pki = ensure_pki(state / "pki", spec)
        nodes_dir = state / "nodes"
        nodes_dir.mkdir(exist_ok=True)
        digests: dict[str, str] = {}
        versions = {"kube": spec.kube_version, "etcd": spec.etcd_version, "crictl": spec.release.critools}
        for nf in render_all(spec, pki, f"docker.io/{ctx.refs['pause']}"):
            write_node(nodes_dir, nf, versions)
            digests[nf.node.name] = f"{nf.digest()}:{spec.kube_version}"
        admin = render_kubeconfig(spec.name, spec.apiserver_url, pki.ca.cert_pem, pki.admin.cert_pem,
                                  pki.admin.key_pem, "kubegate-admin")
        write_kubeconfig(ctx.machines.kubeconfig, admin)
        (state / "images.json").write_text(json.dumps(ctx.refs, indent=2, sort_keys=True) + "\n")
        settings = {"node_image": ctx.refs["node"], "dist_dir": str(dist_dir()), "master_ip": spec.master_ip,
                    "minion_ips": list(spec.minion_ips), "containerd_volumes": ctx.machines.containerd_volumes()}
        path, text = state / "vagrant.json", json.dumps(settings, indent=2) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.write_text(text)
        index = dist_dir() / "images" / "index.json"
        images = hashlib.sha256((index.read_text() if index.is_file() else "").encode()).hexdigest()[:8]
        ctx.digests = {name: f"{d}:{images}" for name, d in digests.items()}
        return f"{len(digests)} nodes"
