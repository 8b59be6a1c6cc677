"""The supported Kubernetes minors: how a version is asked for, refused, settled and recorded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kubegate.errors import KubegateError
from kubegate.rig import versions
from kubegate.rig.build import gobuild

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("asked", ["1.36", "v1.36", "1.36.3", "v1.36.3"])
def test_a_minor_or_its_version_gives_the_minors_release(asked: str) -> None:
    release = versions.resolve(asked)
    assert (release.kubernetes, release.etcd) == ("v1.36.3", "v3.6.8")


def test_another_patch_of_a_supported_minor_keeps_the_minors_parts() -> None:
    release = versions.resolve("1.35.9")
    assert (release.kubernetes, release.etcd, release.agnhost) == ("v1.35.9", "v3.6.8", "2.59")


@pytest.mark.parametrize(("asked", "why"), [("1.30", "out of upstream support"), ("1.99", "not released"),
                                            ("latest", "give a minor")])
def test_unsupported_unknown_and_malformed_are_refused_in_one_line_listing_the_supported(asked: str, why: str) -> None:
    with pytest.raises(KubegateError) as exc:
        versions.resolve(asked)
    msg = str(exc.value)
    assert why in msg and "\n" not in msg
    assert all(r.kubernetes in msg for r in versions.RELEASES)


def test_default_is_the_newest_supported_minor() -> None:
    assert versions.RELEASES[0] == versions.DEFAULT
    assert [r.major_minor for r in versions.RELEASES] == sorted((r.major_minor for r in versions.RELEASES),
                                                                reverse=True)


def test_settle_prefers_asked_then_running_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(versions.VERSION_ENV, "")  # restored afterwards: settle() exports
    assert versions.settle(tmp_path) == versions.DEFAULT
    monkeypatch.setenv(versions.VERSION_ENV, "")
    versions.record(tmp_path, versions.resolve("1.35"))
    assert versions.settle(tmp_path).kubernetes == "v1.35.4"  # the running cluster's
    monkeypatch.setenv(versions.VERSION_ENV, "1.36")
    assert versions.settle(tmp_path).kubernetes == "v1.36.3"  # asked wins ...
    with pytest.raises(KubegateError, match=r"runs Kubernetes v1.35.4, not v1.36.3: run `kubegate down`"):
        versions.check_running(tmp_path, versions.resolve("1.36"))  # ... but is not brought up in place
    versions.record(tmp_path, None)
    versions.check_running(tmp_path, versions.resolve("1.36"))


def test_a_running_version_no_longer_served_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(versions.VERSION_ENV, "")  # restored afterwards: settle() exports
    (tmp_path / versions.RUNNING_FILE).write_text("v1.34.4\n")
    assert versions.settle(tmp_path) == versions.DEFAULT
    with pytest.raises(KubegateError, match=r"runs Kubernetes v1\.34\.4"):
        versions.check_running(tmp_path, versions.DEFAULT)


def test_server_notices_warn_on_unsupported_minors_and_deprecated_externalips() -> None:
    assert versions.server_notices("1", "35") == {}
    assert "publicIPs through deprecated externalIPs" in versions.server_notices("1", "37")["publicIPs"]
    assert versions.server_notices("1", "33+")["server version support"].startswith("WARNING: Kubernetes 1.33")


def test_node_sh_download_pins_are_the_built_runtime_versions() -> None:
    """VMs without a dist download the runtime; they must get what the docker rig builds."""
    text = (ROOT / "cluster" / "provision" / "node.sh").read_text()
    pins = dict(re.findall(r"^(CONTAINERD_VERSION|RUNC_VERSION|CNI_PLUGINS_VERSION)=(\S+)$", text, re.M))
    assert pins == {"CONTAINERD_VERSION": gobuild.CONTAINERD_VERSION, "RUNC_VERSION": gobuild.RUNC_VERSION,
                    "CNI_PLUGINS_VERSION": gobuild.CNI_PLUGINS_VERSION}
    plugins = re.search(r"^CNI_PLUGINS=\((.*)\)$", text, re.M)
    assert plugins and tuple(plugins[1].split()) == gobuild.CNI_PLUGINS
