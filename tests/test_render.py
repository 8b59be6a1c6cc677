"""Node files rendered on the host: what each node gets, with which modes."""

import json
import tomllib
from pathlib import Path

import pytest
import yaml

from kubegate.rig.pki import ensure_pki
from kubegate.rig.render import configs, nodeprep, units
from kubegate.rig.render.cluster import render_all, write_node
from kubegate.rig.spec import ClusterSpec

SPEC = ClusterSpec()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    pki = ensure_pki(tmp_path_factory.mktemp("pki"), SPEC)
    return {nf.node.name: nf for nf in render_all(SPEC, pki, "docker.io/kubegate/pause:abc")}


def test_master_runs_control_plane_only(rendered) -> None:  # type: ignore[no-untyped-def]
    m = rendered["master"]
    assert m.units == ("kubegate-node-prep.service", "etcd.service", "kube-apiserver.service",
                       "kube-controller-manager.service", "kube-scheduler.service")
    assert not any("kubelet" in u for u in m.units), "the master must not be a Kubernetes node"


def test_apiserver_flags_secure_defaults() -> None:
    text = units.kube_apiserver(SPEC)
    for flag in ("--authorization-mode=Node,RBAC", "--anonymous-auth=false", "--service-cluster-ip-range=10.247.0.0/16",
                 "--advertise-address=10.245.1.2", "--etcd-servers=https://127.0.0.1:2379"):
        assert flag in text


def test_minions_get_their_own_pod_cidr_and_identity(rendered) -> None:  # type: ignore[no-untyped-def]
    for i, m in enumerate(SPEC.minions, start=1):
        files = rendered[m.name].files
        cni = json.loads(files["etc/cni/net.d/10-kubegate.conflist"][0])
        assert cni["plugins"][0]["ipam"]["ranges"] == [[{"subnet": f"10.246.{i}.0/24"}]]
        kc = yaml.safe_load(files["etc/kubernetes/kubelet.kubeconfig"][0])
        assert kc["users"][0]["name"] == f"system:node:{m.name}"
        assert kc["clusters"][0]["cluster"]["server"] == "https://10.245.1.2:6443"
        unit = files["etc/systemd/system/kubelet.service"][0].decode()
        assert f"--node-ip={m.ip}" in unit and f"--hostname-override={m.name}" in unit


def test_secrets_are_0600_everything_else_readable(rendered) -> None:  # type: ignore[no-untyped-def]
    for nf in rendered.values():
        for path, (_, mode) in nf.files.items():
            if path.endswith((".key", ".kubeconfig")):
                assert mode == 0o600, path
            else:
                assert mode in (0o644, 0o755), path


def test_routes_go_to_the_other_minions_only() -> None:
    script = nodeprep.render_node_prep(SPEC, SPEC.minions[1])
    assert "ip route replace 10.246.1.0/24 via 10.245.1.3" in script
    assert "ip route replace 10.246.3.0/24 via 10.245.1.5" in script
    assert "10.246.2.0/24" not in script
    master = nodeprep.render_node_prep(SPEC, SPEC.master)
    assert master.count("ip route replace") == 3


def test_kubelet_and_proxy_settings_for_container_nodes() -> None:
    m = SPEC.minions[0]
    kubelet = yaml.safe_load(configs.kubelet_config(SPEC, m))
    assert kubelet["failSwapOn"] is False and kubelet["cgroupDriver"] == "systemd"
    assert kubelet["authentication"]["anonymous"]["enabled"] is False
    proxy = yaml.safe_load(configs.kube_proxy_config(SPEC, m))
    assert proxy["mode"] == "iptables" and proxy["clusterCIDR"] == "10.246.0.0/16"
    assert kubelet["failCgroupV1"] is False  # the rig's hosts are cgroup v1; kubelet refuses it from 1.35
    assert kubelet["imagePullCredentialsVerificationPolicy"] == "NeverVerifyAllowlistedImages"
    assert kubelet["preloadedImagesVerificationAllowlist"] == list(configs.PRELOADED)
    assert configs.PRELOADED == ("kubegate/*", "docker.io/kubegate/*", "registry.k8s.io/*")
    ctd = tomllib.loads(configs.containerd_config("docker.io/kubegate/pause:abc"))
    assert ctd["version"] == 3  # containerd 2's format: a 1.x key would be ignored, not refused
    images, runtime = ctd["plugins"]["io.containerd.cri.v1.images"], ctd["plugins"]["io.containerd.cri.v1.runtime"]
    assert images["pinned_images"]["sandbox"] == "docker.io/kubegate/pause:abc"
    assert images["registry"]["config_path"] == "/etc/containerd/certs.d"
    runc = runtime["containerd"]["runtimes"]["runc"]
    assert runc["options"]["SystemdCgroup"] is True and runc["options"]["BinaryName"] == "/usr/local/bin/runc"
    assert runtime["restrict_oom_score_adj"] is True and runtime["cni"]["bin_dirs"] == ["/opt/cni/bin"]


def test_write_node_is_idempotent_and_atomic(rendered, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    nf = rendered["minion-2"]
    assert write_node(tmp_path, nf, {"kube": "v1.37.2"}) is True
    assert write_node(tmp_path, nf, {"kube": "v1.37.2"}) is False
    key = tmp_path / "minion-2" / "rootfs" / "etc/kubernetes/pki/kubelet.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "minion-2" / "units").read_text().split() == list(nf.units)
    assert not list(tmp_path.glob(".*.tmp"))


def test_coredns_image_names_the_version_it_builds() -> None:
    """The image tag hashes its folder, so the folder must change when the CoreDNS version does."""
    from kubegate.paths import assets as repo_root
    from kubegate.rig.build import gobuild
    dockerfile = (repo_root() / "cluster" / "images" / "coredns" / "Dockerfile").read_text()
    assert f"org.opencontainers.image.version={gobuild.COREDNS_VERSION}" in dockerfile


def test_kubelets_name_kube_dns_and_crictl_talks_to_containerd() -> None:
    import yaml

    from kubegate.rig.render import configs
    from kubegate.rig.spec import ClusterSpec
    spec = ClusterSpec()
    cfg = yaml.safe_load(configs.kubelet_config(spec, spec.minions[0]))
    assert cfg["clusterDNS"] == ["10.247.0.10"] == [spec.dns_ip]
    assert cfg["clusterDomain"] == "cluster.local"
    assert "unix:///run/containerd/containerd.sock" in configs.crictl_yaml()
