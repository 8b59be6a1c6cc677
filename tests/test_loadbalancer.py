"""The LoadBalancer way to the seed's publicIPs: Services reshaped, MetalLB's manifest adapted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kubegate.errors import KubegateError
from kubegate.kube import publicip
from kubegate.rig.build import gobuild
from kubegate.rig.render import metallb
from kubegate.rig.spec import ClusterSpec

ROOT = Path(__file__).resolve().parent.parent
SVC = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db"},
       "spec": {"type": "ClusterIP", "ports": [{"port": 27017}], "externalIPs": ["10.245.1.240"]}}


def _svc() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(yaml.safe_dump(SVC))


def test_externalips_mode_leaves_the_seeds_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(publicip.MODE_ENV, "externalIPs")
    assert publicip.shape([_svc()]) == [SVC]


def test_loadbalancer_mode_asks_for_the_same_address_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(publicip.MODE_ENV, "loadbalancer")
    [svc] = publicip.shape([_svc(), {"kind": "ReplicationController", "metadata": {"name": "db"}}])[:1]
    assert svc["spec"]["type"] == "LoadBalancer" and "externalIPs" not in svc["spec"]
    assert svc["metadata"]["annotations"] == {publicip.ASK_IP: "10.245.1.240", publicip.SHARE: publicip.SHARE_KEY}
    assert publicip.assigned({"status": {"loadBalancer": {"ingress": [{"ip": "10.245.1.240"}]}}}) == ["10.245.1.240"]


def test_an_unknown_mode_is_refused_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(publicip.MODE_ENV, "nodeport")
    with pytest.raises(KubegateError, match="choose externalIPs or loadbalancer"):
        publicip.mode()


def test_the_pool_sits_on_the_node_network_above_the_rigs_addresses() -> None:
    assert metallb.pool_range(ClusterSpec()) == "10.245.1.240-10.245.1.250"
    with pytest.raises(KubegateError, match="overlaps"):
        metallb.pool_range(ClusterSpec(minion_ips=("10.245.1.3", "10.245.1.4", "10.245.1.245")))


def test_upstreams_manifest_loses_webhook_and_memberlist_and_runs_kubegates_image(tmp_path: Path) -> None:
    native = tmp_path / "metallb-native.yaml"
    cert = {"name": "cert", "secret": {"secretName": "metallb-webhook-cert"}}
    ml = {"name": "memberlist", "secret": {"secretName": "memberlist"}}
    docs = [
        {"kind": "CustomResourceDefinition", "metadata": {"name": "bgppeers.metallb.io"},
         "spec": {"conversion": {"strategy": "Webhook"}}},
        {"kind": "ValidatingWebhookConfiguration", "metadata": {"name": "metallb-webhook-configuration"}},
        {"kind": "Secret", "metadata": {"name": "metallb-webhook-cert"}},
        {"kind": "Deployment", "metadata": {"name": "controller"}, "spec": {"template": {"spec": {
            "containers": [{"name": "controller", "image": "quay.io/metallb/controller", "args": ["--port=7472"],
                            "env": [{"name": "METALLB_ML_SECRET_NAME", "value": "memberlist"}],
                            "ports": [{"name": "webhook-server", "containerPort": 9443}],
                            "volumeMounts": [{"name": "cert", "mountPath": "/tmp/k8s-webhook-server/serving-certs"}]}],
            "volumes": [cert]}}}},
        {"kind": "DaemonSet", "metadata": {"name": "speaker"}, "spec": {"template": {"spec": {
            "containers": [{"name": "speaker", "image": "quay.io/metallb/speaker:v0.15.2",
                            "env": [{"name": "METALLB_NODE_NAME"}, {"name": "METALLB_ML_BIND_ADDR"}],
                            "volumeMounts": [{"name": "memberlist", "mountPath": "/etc/ml_secret_key"}]}],
            "volumes": [ml]}}}},
    ]
    native.write_text(yaml.safe_dump_all(docs))
    out = {(d["kind"], d["metadata"]["name"]): d for d in metallb.render(native, "kubegate/metallb:abc", ClusterSpec())}
    assert ("ValidatingWebhookConfiguration", "metallb-webhook-configuration") not in out
    assert "conversion" not in out[("CustomResourceDefinition", "bgppeers.metallb.io")]["spec"]
    [ctl] = out[("Deployment", "controller")]["spec"]["template"]["spec"]["containers"]
    assert (ctl["image"], ctl["imagePullPolicy"], ctl["command"]) == ("kubegate/metallb:abc", "Never", ["/controller"])
    assert "--webhook-mode=disabled" in ctl["args"] and not ctl["env"] and not ctl["volumeMounts"]
    speaker = out[("DaemonSet", "speaker")]["spec"]["template"]["spec"]
    assert [e["name"] for e in speaker["containers"][0]["env"]] == ["METALLB_NODE_NAME"] and not speaker["volumes"]
    other = native.with_name("other.yaml")
    other.write_text(yaml.safe_dump_all(docs[:2]))
    with pytest.raises(KubegateError, match="native manifest"):
        metallb.render(other, "x", ClusterSpec())


def test_metallb_image_names_the_version_it_builds() -> None:
    dockerfile = (ROOT / "cluster" / "images" / "metallb" / "Dockerfile").read_text()
    assert f"org.opencontainers.image.version={gobuild.METALLB_VERSION}" in dockerfile
