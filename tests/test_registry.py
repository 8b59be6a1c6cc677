"""Registry references and credentials: pure logic, no registry needed."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from kubegate.errors import KubegateError
from kubegate.paths import assets as repo_root
from kubegate.registry import creds
from kubegate.registry.refs import PUSHED, registry_refs, source_tag, split_registry


@pytest.mark.parametrize(("value", "host", "prefix"), [
    ("10.245.1.1:5000/kubegate", "10.245.1.1:5000", "kubegate"),
    ("registry.example.com", "registry.example.com", ""),
    ("ghcr.io/team/sub/", "ghcr.io", "team/sub"),
    ("localhost/x", "localhost", "x"),
])
def test_split_registry(value: str, host: str, prefix: str) -> None:
    assert split_registry(value) == (host, prefix)


@pytest.mark.parametrize("value", ["kubegate", "bad registry", "reg.io/UPPER", "", "https://reg.io/x"])
def test_split_registry_refuses_what_is_no_registry(value: str) -> None:
    with pytest.raises(KubegateError, match="REGISTRY"):
        split_registry(value)


def test_refs_are_derived_from_the_checkout_alone() -> None:
    root = repo_root()
    refs = registry_refs(root, "reg.example.com/kg")
    assert set(refs) == set(PUSHED) >= {"db", "msg", "client", "pulp"}
    assert refs["db"] == f"reg.example.com/kg/db:{source_tag(root, 'db')}"
    assert refs == registry_refs(root, "reg.example.com/kg/")  # stable, trailing slash ignored


def test_login_is_saved_and_found_as_docker_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    assert creds.lookup("reg.example.com") is None
    path = creds.save("reg.example.com", "u", "p:w")
    assert path.stat().st_mode & 0o777 == 0o600
    assert base64.b64decode(creds.lookup("reg.example.com") or "") == b"u:p:w"
    assert creds.lookup("other.example.com") is None


def test_pull_manifest_names_the_secret_on_the_default_service_account(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    assert creds.pull_manifest("reg.example.com", "ns") == ""  # no login: anonymous pulls, no Secret
    creds.save("reg.example.com", "u", "p")
    secret, sa = [d for d in yaml.safe_load_all(creds.pull_manifest("reg.example.com", "ns")) if d]
    assert secret["type"] == "kubernetes.io/dockerconfigjson" and secret["metadata"]["namespace"] == "ns"
    cfg = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert base64.b64decode(cfg["auths"]["reg.example.com"]["auth"]) == b"u:p"
    assert sa["metadata"]["name"] == "default" and sa["imagePullSecrets"] == [{"name": creds.PULL_SECRET}]


def test_unreadable_docker_config_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(KubegateError, match="not readable JSON"):
        creds.lookup("reg.example.com")
