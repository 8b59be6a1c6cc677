"""Lay out every file each node needs under `.cluster/nodes/<name>/rootfs`.

Provisioning (cluster/provision/node.sh) copies that tree onto `/` and enables the units
listed beside it, so everything node-specific is decided here, on the host, in one place
with tests, and the same files serve the docker provider and the VM providers alike.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from kubegate.rig.pki import CertKeyPair, Pki
from kubegate.rig.render import configs, nodeprep, units
from kubegate.rig.render.kubeconfig import render_kubeconfig
from kubegate.rig.spec import ClusterSpec, Node

KEY = 0o600
PUBLIC = 0o644
EXEC = 0o755


@dataclass(frozen=True)
class NodeFiles:
    """Files as {path on the node: (bytes, mode)} plus the units to enable, in order."""

    node: Node
    files: dict[str, tuple[bytes, int]]
    units: tuple[str, ...]

    def digest(self) -> str:
        h = hashlib.sha256()
        for path in sorted(self.files):
            data, mode = self.files[path]
            h.update(f"{path}\0{mode}\0".encode() + data)
        h.update("\n".join(self.units).encode())
        return h.hexdigest()[:16]


def _pair(files: dict[str, tuple[bytes, int]], dest: str, pair: CertKeyPair) -> None:
    files[f"etc/kubernetes/pki/{dest}.crt"] = (pair.cert_pem, PUBLIC)
    files[f"etc/kubernetes/pki/{dest}.key"] = (pair.key_pem, KEY)


def _kubeconfig(spec: ClusterSpec, pki: Pki, server: str, pair: CertKeyPair, user: str) -> bytes:
    return render_kubeconfig(spec.name, server, pki.ca.cert_pem, pair.cert_pem, pair.key_pem, user).encode()


def master_files(spec: ClusterSpec, pki: Pki) -> NodeFiles:
    node = spec.master
    local = f"https://127.0.0.1:{spec.apiserver_port}"
    files: dict[str, tuple[bytes, int]] = {"etc/kubernetes/pki/ca.crt": (pki.ca.cert_pem, PUBLIC)}
    _pair(files, "kube-apiserver", pki.apiserver)
    _pair(files, "apiserver-kubelet-client", pki.apiserver_kubelet_client)
    _pair(files, "apiserver-etcd-client", pki.apiserver_etcd_client)
    _pair(files, "etcd-server", pki.etcd_server)
    files["etc/kubernetes/pki/sa.key"] = (pki.service_account.key_pem, KEY)
    files["etc/kubernetes/pki/sa.pub"] = (pki.service_account.pub_pem, PUBLIC)
    files["etc/kubernetes/controller-manager.kubeconfig"] = (
        _kubeconfig(spec, pki, local, pki.controller_manager, "system:kube-controller-manager"), KEY)
    files["etc/kubernetes/scheduler.kubeconfig"] = (
        _kubeconfig(spec, pki, local, pki.scheduler, "system:kube-scheduler"), KEY)
    files["etc/kubernetes/admin.kubeconfig"] = (_kubeconfig(spec, pki, local, pki.admin, "kubegate-admin"), KEY)
    unit_text = {
        "kubegate-node-prep.service": units.node_prep_unit(),
        "etcd.service": units.etcd(spec),
        "kube-apiserver.service": units.kube_apiserver(spec),
        "kube-controller-manager.service": units.kube_controller_manager(spec),
        "kube-scheduler.service": units.kube_scheduler(spec),
    }
    for name, text in unit_text.items():
        files[f"etc/systemd/system/{name}"] = (text.encode(), PUBLIC)
    files["usr/local/sbin/kubegate-node-prep"] = (nodeprep.render_node_prep(spec, node).encode(), EXEC)
    return NodeFiles(node, files, tuple(unit_text))


def minion_files(spec: ClusterSpec, pki: Pki, node: Node, sandbox_image: str) -> NodeFiles:
    files: dict[str, tuple[bytes, int]] = {"etc/kubernetes/pki/ca.crt": (pki.ca.cert_pem, PUBLIC)}
    _pair(files, "kubelet", pki.kubelet_serving(node.name))
    files["etc/kubernetes/kubelet.kubeconfig"] = (
        _kubeconfig(spec, pki, spec.apiserver_url, pki.kubelet_client(node.name), f"system:node:{node.name}"), KEY)
    files["etc/kubernetes/kube-proxy.kubeconfig"] = (
        _kubeconfig(spec, pki, spec.apiserver_url, pki.kube_proxy, "system:kube-proxy"), KEY)
    files["var/lib/kubelet/config.yaml"] = (configs.kubelet_config(spec, node).encode(), PUBLIC)
    files["var/lib/kube-proxy/config.yaml"] = (configs.kube_proxy_config(spec, node).encode(), PUBLIC)
    files["etc/containerd/config.toml"] = (configs.containerd_config(sandbox_image).encode(), PUBLIC)
    files[f"etc/containerd/certs.d/{spec.registry}/hosts.toml"] = (configs.registry_hosts_toml(spec).encode(), PUBLIC)
    files[f"{units.EXTRA_ROOTS.lstrip('/')}/kubegate-ca.crt"] = (pki.ca.cert_pem, PUBLIC)
    files["etc/crictl.yaml"] = (configs.crictl_yaml().encode(), PUBLIC)
    files["etc/cni/net.d/10-kubegate.conflist"] = (configs.cni_conflist(spec, node).encode(), PUBLIC)
    files["usr/local/sbin/kubegate-node-prep"] = (nodeprep.render_node_prep(spec, node).encode(), EXEC)
    unit_text = {
        "kubegate-node-prep.service": units.node_prep_unit(),
        "containerd.service": units.containerd(),
        "kubelet.service": units.kubelet(node),
        "kube-proxy.service": units.kube_proxy(node),
    }
    for name, text in unit_text.items():
        files[f"etc/systemd/system/{name}"] = (text.encode(), PUBLIC)
    return NodeFiles(node, files, tuple(unit_text))


def render_all(spec: ClusterSpec, pki: Pki, sandbox_image: str) -> list[NodeFiles]:
    return [master_files(spec, pki), *(minion_files(spec, pki, m, sandbox_image) for m in spec.minions)]


def write_node(out: Path, nf: NodeFiles, versions: dict[str, str]) -> bool:
    """Write `.cluster/nodes/<name>/`; returns True when anything differs from what was there.
    `versions` ({"kube": "v1.37.2", "etcd": ..., "crictl": ...}) become `<name>-version` files: what
    node.sh downloads where no dist is mounted (VMs)."""
    node_dir = out / nf.node.name
    stamp = node_dir / "digest"
    digest = nf.digest() + "-" + hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()[:8]
    if stamp.is_file() and stamp.read_text().strip() == digest and (node_dir / "rootfs").is_dir():
        return False
    tmp = out / f".{nf.node.name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "rootfs").mkdir(parents=True)
    tmp.chmod(0o700)
    for rel, (data, mode) in nf.files.items():
        path = tmp / "rootfs" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=mode)
        path.chmod(mode)
        path.write_bytes(data)
    (tmp / "units").write_text("\n".join(nf.units) + "\n")
    for name, version in versions.items():
        (tmp / f"{name}-version").write_text(version + "\n")
    (tmp / "node.json").write_text(json.dumps({"name": nf.node.name, "ip": nf.node.ip, "role": nf.node.role,
                                               "pod_cidr": nf.node.pod_cidr}) + "\n")
    (tmp / "digest").write_text(digest + "\n")
    shutil.rmtree(node_dir, ignore_errors=True)
    tmp.rename(node_dir)
    return True
