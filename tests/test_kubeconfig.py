from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubegate.errors import KubegateError
from kubegate.rig.pki import Pki, ensure_pki
from kubegate.rig.render.kubeconfig import render_kubeconfig, write_kubeconfig
from kubegate.rig.spec import ClusterSpec

SPEC = ClusterSpec()


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return ensure_pki(tmp_path_factory.mktemp("kc") / "pki", SPEC)


@pytest.fixture(scope="module")
def admin_text(pki: Pki) -> str:
    return render_kubeconfig(
        SPEC.name, SPEC.apiserver_url, pki.ca.cert_pem, pki.admin.cert_pem, pki.admin.key_pem, "kubegate-admin"
    )


def test_parses_and_round_trips(pki: Pki, admin_text: str) -> None:
    cfg: dict[str, Any] = yaml.safe_load(admin_text)
    assert cfg["apiVersion"] == "v1" and cfg["kind"] == "Config"
    [cluster] = cfg["clusters"]
    [user] = cfg["users"]
    [context] = cfg["contexts"]
    assert cluster["name"] == "kubegate"
    assert cluster["cluster"]["server"] == "https://10.245.1.2:6443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == pki.ca.cert_pem
    assert user["name"] == "kubegate-admin"
    assert base64.b64decode(user["user"]["client-certificate-data"]) == pki.admin.cert_pem
    assert base64.b64decode(user["user"]["client-key-data"]) == pki.admin.key_pem
    assert context["context"] == {"cluster": "kubegate", "user": "kubegate-admin"}
    assert cfg["current-context"] == context["name"] == "kubegate-admin@kubegate"


def test_is_deterministic(pki: Pki, admin_text: str) -> None:
    again = render_kubeconfig(
        SPEC.name, SPEC.apiserver_url, pki.ca.cert_pem, pki.admin.cert_pem, pki.admin.key_pem, "kubegate-admin"
    )
    assert again == admin_text


@pytest.mark.parametrize(
    ("server", "swap", "match"),
    [
        ("http://10.245.1.2:8080", False, "https://"),
        ("https://10.245.1.2:6443", True, "client_cert_pem"),
    ],
)
def test_rejects_misuse(pki: Pki, server: str, swap: bool, match: str) -> None:
    cert, key = (pki.admin.key_pem, pki.admin.cert_pem) if swap else (pki.admin.cert_pem, pki.admin.key_pem)
    with pytest.raises(ValueError, match=match):
        render_kubeconfig("kubegate", server, pki.ca.cert_pem, cert, key, "kubegate-admin")


def test_written_0600_and_only_when_changed(tmp_path: Path, admin_text: str) -> None:
    path = tmp_path / "cluster" / "kubeconfig"
    assert write_kubeconfig(path, admin_text) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert yaml.safe_load(path.read_text()) == yaml.safe_load(admin_text)
    mtime = path.stat().st_mtime_ns
    assert write_kubeconfig(path, admin_text) is False
    assert path.stat().st_mtime_ns == mtime
    path.chmod(0o644)
    assert write_kubeconfig(path, admin_text) is False
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write_kubeconfig(path, admin_text + "# changed\n") is True


def test_unwritable_location_is_one_clear_error(tmp_path: Path, admin_text: str) -> None:
    blocker = tmp_path / "cluster"
    blocker.write_text("not a directory")
    with pytest.raises(KubegateError) as e:
        write_kubeconfig(blocker / "kubeconfig", admin_text)
    assert "\n" not in str(e.value) and str(blocker) in str(e.value)
